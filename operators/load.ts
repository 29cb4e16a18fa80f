import * as t from 'io-ts';
import { basename, extname } from 'node:path';
import { from, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../src/errors.js';
import { NonNegativeInt, PositiveInt, PositiveNumber, oneOf, closedObject } from '../src/codec/building-blocks.js';
import { toFloat32, toGrey, type Normalisation } from '../src/image/convert.js';
import { pickChannels } from '../src/image/channels.js';
import { nonFinite, requireChannels, sameSize, type Image } from '../src/image/image.js';
import type { PixelSize } from '../src/image/pixel-size.js';
import { describePixelSize } from '../src/io/pixel-size.js';
import type { ImageInfo } from '../src/io/read.js';
import { describeLayout, planesOf, type TiffLayout } from '../src/io/tiff-dimensions.js';
import type { ImageReader } from '../src/host/images.js';
import { nodeImages } from '../src/host/node/images.js';
import { planeReader } from '../src/io/tiff-planes.js';
import type { Sample, SourceRef } from '../src/sample.js';
import { decodeParams, flatPerSample, type StepContext } from './step.js';

export const LoadParams = closedObject(
  'load parameters',
  {},
  {
    /** Convert colour images to grayscale (BT.601 luma). @default false */
    grey: t.boolean,
    /**
     * A count: the channels the image must have after `grey`, anything else is an error.
     * A list of 0-based indices: the channels to keep, in that order, before `grey`.
     * @default any
     */
    channels: t.union([PositiveInt, t.array(NonNegativeInt)]),
    /** The one channel to keep (0-based), as `channels: [N]`. @default all */
    channel: NonNegativeInt,
    /** Convert the image to float32 with this normalisation (see docs). @default keep the file's dtype */
    normalize: closedObject(
      'normalisation',
      { method: oneOf(['none', 'dtype', 'minmax', 'percentile', 'range']) },
      { low: t.number, high: t.number, min: t.number, max: t.number },
    ),
    /** Files read at once. @default 2 */
    concurrency: PositiveInt,
    /** Only these pages of multi-page files (0-based); of a multi-channel or z/t TIFF, these planes (in the order of its samples). @default all */
    pages: t.array(NonNegativeInt),
    /** Micrometres per pixel, [y, x], overriding what the files record. @default the file's own (OME-XML, ImageJ, resolution tags, PNG pHYs) */
    pixelSize: t.tuple([PositiveNumber, PositiveNumber]),
  },
);
export type LoadParams = t.TypeOf<typeof LoadParams>;

/**
 * Reads image files with sharp into Samples: one per page for multi-page TIFFs
 * (id `<name>.p<page>`), with the matching label when the source pairs one.
 *
 * A TIFF whose description lays its pages out as channels, z slices and time frames
 * (OME-XML, an ImageJ hyperstack; src/io/tiff-dimensions.ts) gives one sample per z/t
 * plane instead, its channels interleaved, named by the plane's indices along the axes
 * the file has: `<name>.z3.t0`, `<name>.z3` (no time), `<name>.t2` (no z), `<name>` (one
 * plane of several channels). A single-channel z stack stays a page per sample. A
 * description whose sizes do not multiply to the file's pages is an error naming the
 * file. `channels: [0, 2]` or `channel: 1` keeps chosen channels (only their pages are read).
 *
 * Unreadable files become per-sample errors naming the file, and so do float images
 * holding NaN or infinite values, which no network can use.
 *
 * Pixels keep the file's values: 8- and 16-bit files as uint8 / uint16, float32 as
 * float32, and int8, int16, int32 and uint32 as float32 that remembers its type
 * (`image.sourceType`), so that `dtype` normalisation here or in `unet` maps it by
 * that type's range. float64 and complex files are refused.
 *
 * The physical pixel size (micrometres) goes into `metadata.pixelSize`: the `pixelSize`
 * parameter, else what the file records. A recorded size that cannot be used (zero,
 * negative, an unknown unit) or sources in the file that disagree give a `log` warning
 * naming the file; the image then loads uncalibrated, or with the size that was usable.
 *
 * @example
 * from([{ path: 'in/25.png' }]).pipe(load({ channels: 1, pixelSize: [0.65, 0.65] }), mirror({ margin: 92 }))
 * @see save
 */
export function load(params: LoadParams = {}, ctx: StepContext = {}): OperatorFunction<SourceRef | string, Sample> {
  const p = decodeParams('load', LoadParams, params);
  if (p.channel !== undefined && p.channels !== undefined) throw new ConfigError('load: give channel (one to keep) or channels, not both');
  const normalisation = p.normalize ? toNormalisation(p.normalize) : undefined;
  const pick = p.channel !== undefined ? [p.channel] : Array.isArray(p.channels) ? p.channels : undefined;
  if (pick?.length === 0) throw new ConfigError('load: channels: [] keeps no channel: list the channels to keep (0-based), e.g. channels: [0, 2]');
  const required = typeof p.channels === 'number' ? p.channels : undefined;
  const prepare = (image: Image, got: string | undefined, planes?: TiffLayout): Image => {
    const grey = p.grey ? toGrey(image) : image;
    if (planes && required !== undefined && grey.channels !== required && !p.grey && !pick) {
      // Channels of a fluorescence stack are stains, not colours: choosing beats converting to grey.
      throw new RangeError(`the image must have ${required} channel${required === 1 ? '' : 's'}, got ${got}: keep the one the network takes with channel: N, or several with channels: [i, ...]`);
    }
    if (required !== undefined) requireChannels(grey, required, 'the image', p.grey || pick ? undefined : got);
    return normalisation ? toFloat32(grey, normalisation) : grey;
  };
  const given = p.pixelSize ? { y: p.pixelSize[0], x: p.pixelSize[1] } : undefined;
  const step = ctx.step ?? 'load';
  const pixelSizeOf = (path: string, info: ImageInfo): PixelSize | undefined => {
    const { pixelSize, problems } = info.calibration;
    if (!given && problems.length) {
      const outcome = pixelSize ? `using ${describePixelSize(pixelSize)}` : `the image stays uncalibrated: give load a pixelSize: [y, x] in micrometres to calibrate it`;
      const message = `${step}: ${path}: the pixel size the file records: ${problems.join('; ')} — ${outcome}`;
      ctx.emit?.({ type: 'log', level: 'warn', message, file: path });
    }
    return given ?? pixelSize;
  };
  return flatPerSample(
    'load',
    ctx,
    (input: SourceRef | string | { path: string }) => {
      const ref: SourceRef = typeof input === 'string' ? { path: input } : input;
      return from(readSamples(ref, { only: p.pages, pick, prepare, pixelSizeOf, step, emit: ctx.emit, images: ctx.images ?? nodeImages }));
    },
    p.concurrency ?? 2,
  );
}

interface ReadOptions {
  readonly only?: readonly number[];
  /** Channels to keep, 0-based, in order. */
  readonly pick?: readonly number[];
  /** grey, the channel count check and normalisation; `got` describes what the file held, `planes` its layout. */
  readonly prepare: (image: Image, got: string | undefined, planes?: TiffLayout) => Image;
  readonly pixelSizeOf: (path: string, info: ImageInfo) => PixelSize | undefined;
  readonly step: string;
  readonly emit?: StepContext['emit'];
  /** What decodes the files: sharp in Node, the page's decoders in a page. */
  readonly images: ImageReader;
}

async function* readSamples(ref: SourceRef, o: ReadOptions): AsyncGenerator<Sample> {
  const { step, images } = o;
  const info = await images.inspect(ref.path, step);
  const layout = info.format === 'tiff' ? await images.layout(ref.path, info.pages, info.channels + (info.alpha ? 1 : 0), step) : undefined;
  if (layout) {
    yield* readPlanes(ref, info, layout, o);
    return;
  }
  const pixelSize = o.pixelSizeOf(ref.path, info);
  const labelInfo = ref.labelPath ? await images.inspect(ref.labelPath, step) : undefined;
  if (labelInfo && labelInfo.pages !== info.pages && labelInfo.pages !== 1) {
    throw new Error(`the label ${ref.labelPath} has ${labelInfo.pages} pages, the image ${info.pages}`);
  }
  const stem = basename(ref.path, extname(ref.path));
  const pages = o.only ?? Array.from({ length: info.pages }, (_, i) => i);
  for (const page of pages) {
    const read = requireFinite(await images.read(ref.path, page, step, info));
    const image = o.prepare(o.pick ? pickChannels(read, o.pick) : read, channelsOf(info));
    const label = labelInfo ? await readLabel(ref, labelInfo, labelInfo.pages === 1 ? 0 : page, image, o) : undefined;
    const multi = info.pages > 1;
    yield {
      id: multi ? `${stem}.p${page}` : stem,
      source: { ...ref, ...(multi ? { page, pages: info.pages } : {}) },
      image,
      ...(label ? { label } : {}),
      ...(pixelSize ? { metadata: { pixelSize } } : {}),
    };
  }
}

/** The samples of a multi-channel or z/t TIFF: one per plane, its channels (or the chosen ones) interleaved. */
async function* readPlanes(ref: SourceRef, info: ImageInfo, layout: TiffLayout, o: ReadOptions): AsyncGenerator<Sample> {
  const { step, images } = o;
  const pixelSize = o.pixelSizeOf(ref.path, info);
  const all = planesOf(layout);
  const stem = basename(ref.path, extname(ref.path));
  const missing = o.only?.find((n) => n >= all.length);
  if (missing !== undefined) throw new Error(`plane ${missing} does not exist: the file has ${all.length} z/t plane${all.length === 1 ? '' : 's'} of ${describeLayout(layout)}`);
  const planes = o.only ? o.only.map((n) => all[n]) : all;
  const labelInfo = ref.labelPath ? await images.inspect(ref.labelPath, step) : undefined;
  if (labelInfo && labelInfo.pages !== all.length && labelInfo.pages !== 1) {
    throw new Error(`the label ${ref.labelPath} has ${labelInfo.pages} pages, the image ${all.length} z/t plane${all.length === 1 ? '' : 's'} of ${describeLayout(layout)}: expected 1 page or one per plane`);
  }
  const read = planeReader(ref.path, info, layout, o.pick, step, images.read);
  const names = planes.map((plane) => (plane.suffix ? `${stem}.${plane.suffix}` : stem));
  const samples = names.length === 1 ? `one sample, ${names[0]}` : `${names.length} samples, ${names[0]} ... ${names[names.length - 1]}`;
  const kept = o.pick ? `, keeping channel${o.pick.length === 1 ? '' : 's'} ${o.pick.join(', ')}` : '';
  // Said once, on the first pass over the source, not again each epoch.
  if ((ref.epoch ?? 0) === 0) o.emit?.({ type: 'log', level: 'info', message: `${step}: ${ref.path}: ${describeLayout(layout)}: ${samples}${kept}`, file: ref.path });
  for (const [k, plane] of planes.entries()) {
    const planeImage = requireFinite(await read(plane));
    const image = o.prepare(planeImage, `${planeImage.channels} channel${planeImage.channels === 1 ? '' : 's'} (${describeLayout(layout)})`, layout);
    const label = labelInfo ? await readLabel(ref, labelInfo, labelInfo.pages === 1 ? 0 : plane.index, image, o) : undefined;
    yield {
      id: names[k],
      source: { ...ref, ...(plane.suffix ? { pages: info.pages, plane: { z: plane.z, t: plane.t, suffix: plane.suffix } } : {}) },
      image,
      ...(label ? { label } : {}),
      ...(pixelSize ? { metadata: { pixelSize } } : {}),
    };
  }
}

async function readLabel(ref: SourceRef, labelInfo: ImageInfo, page: number, image: Image, { step, images }: ReadOptions): Promise<Image> {
  const label = await images.read(ref.labelPath!, page, step, labelInfo);
  requireChannels(label, 1, `the label ${ref.labelPath}`);
  if (!sameSize(image, label)) {
    throw new Error(`the label ${ref.labelPath} is ${label.width}x${label.height}, the image ${image.width}x${image.height}`);
  }
  return label;
}

/** The image unchanged, or an error counting its NaN and infinite values. */
function requireFinite(image: Image): Image {
  const { nan, infinite } = nonFinite(image);
  if (nan === 0 && infinite === 0) return image;
  const counts = [nan ? `${nan} NaN` : '', infinite ? `${infinite} infinite` : ''].filter(Boolean).join(' and ');
  throw new RangeError(
    `the image has ${counts} pixel value${nan + infinite === 1 ? '' : 's'} (of ${image.data.length}), which the network cannot use: ` +
      'replace them with numbers (Fiji: Process > Math > Remove NaNs; numpy: numpy.nan_to_num) and save the image again',
  );
}

/** What the file holds, alpha included, since it is dropped on read: `4 channels (RGB + alpha)`. */
function channelsOf(info: ImageInfo): string {
  const colour = info.channels === 1 ? 'grey' : info.channels === 3 ? 'RGB' : `${info.channels} colour channels`;
  const total = info.channels + (info.alpha ? 1 : 0);
  const named = info.alpha ? `${colour} + alpha` : info.channels === 3 ? 'RGB' : '';
  return `${total} channel${total === 1 ? '' : 's'}${named ? ` (${named})` : ''}`;
}

function toNormalisation(n: NonNullable<LoadParams['normalize']>): Normalisation {
  switch (n.method) {
    case 'percentile':
      return { method: 'percentile', low: n.low, high: n.high };
    case 'range':
      if (n.min === undefined || n.max === undefined) throw new ConfigError('load: normalize method range needs min and max');
      return { method: 'range', min: n.min, max: n.max };
    default:
      return { method: n.method };
  }
}
