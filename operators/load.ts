import * as t from 'io-ts';
import { basename, extname } from 'node:path';
import { from, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../src/errors.js';
import { NonNegativeInt, PositiveInt, PositiveNumber, oneOf, strict } from '../src/codec/building-blocks.js';
import { toFloat32, toGrey, type Normalisation } from '../src/image/convert.js';
import { nonFinite, requireChannels, sameSize, type Image } from '../src/image/image.js';
import type { PixelSize } from '../src/image/pixel-size.js';
import { describePixelSize } from '../src/io/pixel-size.js';
import { inspectImage, readImage, type ImageInfo } from '../src/io/read.js';
import type { Sample, SourceRef } from '../src/sample.js';
import { decodeParams, flatPerSample, type StepContext } from './step.js';

export const LoadParams = strict(
  'load parameters',
  {},
  {
    /** Convert colour images to grayscale (BT.601 luma). @default false */
    grey: t.boolean,
    /** Channels the image must have after `grey`; anything else is an error. @default any */
    channels: PositiveInt,
    /** Convert the image to float32 with this normalisation (see docs). @default keep the file's dtype */
    normalize: strict(
      'normalisation',
      { method: oneOf(['none', 'dtype', 'minmax', 'percentile', 'range']) },
      { low: t.number, high: t.number, min: t.number, max: t.number },
    ),
    /** Files read at once. @default 2 */
    concurrency: PositiveInt,
    /** Only these pages of multi-page files (0-based). @default all */
    pages: t.array(NonNegativeInt),
    /** Micrometres per pixel, [y, x], overriding what the files record. @default the file's own (OME-XML, ImageJ, resolution tags, PNG pHYs) */
    pixelSize: t.tuple([PositiveNumber, PositiveNumber]),
  },
);
export type LoadParams = t.TypeOf<typeof LoadParams>;

/**
 * Reads image files with sharp into Samples: one per page for multi-page TIFFs
 * (id `<name>.p<page>`), with the matching label when the source pairs one.
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
  const normalisation = p.normalize ? toNormalisation(p.normalize) : undefined;
  const prepare = (image: Image, info: ImageInfo): Image => {
    const grey = p.grey ? toGrey(image) : image;
    if (p.channels !== undefined) requireChannels(grey, p.channels, 'the image', p.grey ? undefined : channelsOf(info));
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
      return from(readSamples(ref, p.pages, prepare, pixelSizeOf, step));
    },
    p.concurrency ?? 2,
  );
}

async function* readSamples(
  ref: SourceRef,
  only: readonly number[] | undefined,
  prepare: (image: Image, info: ImageInfo) => Image,
  pixelSizeOf: (path: string, info: ImageInfo) => PixelSize | undefined,
  step: string,
): AsyncGenerator<Sample> {
  const info = await inspectImage(ref.path, step);
  const pixelSize = pixelSizeOf(ref.path, info);
  const labelInfo = ref.labelPath ? await inspectImage(ref.labelPath, step) : undefined;
  if (labelInfo && labelInfo.pages !== info.pages && labelInfo.pages !== 1) {
    throw new Error(`the label ${ref.labelPath} has ${labelInfo.pages} pages, the image ${info.pages}`);
  }
  const stem = basename(ref.path, extname(ref.path));
  const pages = only ?? Array.from({ length: info.pages }, (_, i) => i);
  for (const page of pages) {
    const image = prepare(requireFinite(await readImage(ref.path, page, step, info)), info);
    let label: Image | undefined;
    if (ref.labelPath && labelInfo) {
      label = await readImage(ref.labelPath, labelInfo.pages === 1 ? 0 : page, step, labelInfo);
      requireChannels(label, 1, `the label ${ref.labelPath}`);
      if (!sameSize(image, label)) {
        throw new Error(`the label ${ref.labelPath} is ${label.width}x${label.height}, the image ${image.width}x${image.height}`);
      }
    }
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
