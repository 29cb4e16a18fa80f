import * as t from 'io-ts';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../src/errors.js';
import { PositiveInt, oneOf, closedObject } from '../src/codec/building-blocks.js';
import { extractChannel, toInteger } from '../src/image/convert.js';
import { makeImage, type Image } from '../src/image/image.js';
import { connectedComponents } from '../src/kernels/components.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { mayWrite, writeRefusal } from '../src/io/write-guard.js';
import { outputPath } from '../src/io/output-path.js';
import type { PixelSize } from '../src/image/pixel-size.js';
import { encodeImage, extensionOf, type ImageFormat } from '../src/io/write.js';
import { measureObjects, measurementsCsv } from '../src/kernels/measure.js';
import { renderOverlay } from '../src/kernels/overlay.js';
import { mapPaddedFields, type Sample } from '../src/sample.js';
import { mirrorPad } from '../src/kernels/mirror.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

interface Encoded {
  readonly bytes: Uint8Array | string;
  readonly ext: string;
}

/** What each output needs from the sample (named in the error when missing) and how it is encoded. */
const OUTPUTS: Record<string, { needs: readonly (keyof Sample)[]; format?: ImageFormat; encode(s: Sample, f: ImageFormat | undefined): Promise<Encoded> | Encoded }> = {
  image: { needs: ['image'], encode: (s, f) => image(s.image, f, s) },
  label: { needs: ['label'], encode: (s, f) => image(s.label!, f, s) },
  // Float32 maps: TIFF, one page per class for probabilities (a Fiji stack).
  weights: { needs: ['weights'], encode: (s, f) => image(s.weights!, f ?? 'tiff', s) },
  probabilities: { needs: ['probabilities'], encode: (s, f) => image(s.probabilities!, f ?? 'tiff', s) },
  mask: { needs: ['mask'], encode: (s, f) => image(binaryAs255(s), f ?? 'png', s) },
  instances: { needs: ['instances'], encode: (s, f) => image(s.instances!, f ?? 'tiff', s) },
  overlay: { needs: ['image'], encode: (s, f) => image(renderOverlay(s.image, regionsOf(s, 'overlay')), f ?? 'png', s) },
  measurements: { needs: ['image'], encode: (s) => ({ bytes: measurementsCsv(measureObjects(objectsOf(s), s.image), pixelSizeOf(s)), ext: 'csv' }) },
};
export type OutputName = 'image' | 'label' | 'weights' | 'probabilities' | 'mask' | 'instances' | 'overlay' | 'measurements';
const outputNames = Object.keys(OUTPUTS) as [OutputName, ...OutputName[]];

export const SaveParams = closedObject(
  'save parameters',
  {
    /** Output folder, relative to the pipeline file. */
    dir: t.string,
    /** What to write; a sample lacking what one of them needs is an error. */
    outputs: t.array(oneOf(outputNames)),
  },
  {
    /** Image format per output, overriding the default (PNG for 8/16-bit, TIFF for float32 and multi-channel data); `ome-tiff` writes `.ome.tif`. */
    formats: t.partial(Object.fromEntries(outputNames.map((n) => [n, oneOf(['png', 'tiff', 'ome-tiff', 'jpeg'])])) as Record<OutputName, t.Type<ImageFormat>>),
    /** Samples written at once. @default 2 */
    concurrency: PositiveInt,
  },
);
export type SaveParams = t.TypeOf<typeof SaveParams>;

/**
 * Writes the chosen outputs of each sample atomically (temporary file, then rename)
 * as `<dir>/<input name>[.p<page>].<output>.<ext>`, e.g. `25.mask.png`, and adds the
 * written paths to `metadata.outputs`.
 *
 * Outputs: image, label; weights and probabilities (float32 TIFF, one page per class);
 * mask (PNG: a 0/1 mask as 0/255, class indices otherwise); instances (16-bit TIFF);
 * overlay (PNG: object outlines over the image); measurements (CSV: one row per object).
 *
 * A sample's `metadata.pixelSize` (set by `load`; a tile's comes from its parent) goes
 * into every TIFF (ImageJ description and resolution tags, so Fiji shows microns; OME-XML
 * for `ome-tiff`) and square-pixel PNG (pHYs), and adds µm columns to measurements.
 *
 * @example
 * samples$.pipe(save({ dir: 'out', outputs: ['mask', 'probabilities', 'overlay'] }))
 * @see load
 */
export function save(params: SaveParams, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('save', SaveParams, params);
  if (p.outputs.length === 0) throw new ConfigError('save: outputs is empty: name at least one of ' + outputNames.join(', '));
  const dir = resolve(ctx.baseDir ?? process.cwd(), p.dir);
  return perSample(
    'save',
    ctx,
    async (recorded) => {
      const sample = mirrored(recorded);
      // Encode everything first: a sample that cannot give every output writes none.
      const files: [OutputName, string, Encoded][] = [];
      for (const name of p.outputs) {
        const missing = OUTPUTS[name].needs.find((f) => !sample[f]);
        if (missing) throw new Error(`cannot save '${name}': the sample has no ${missing} (is a step missing before save?)`);
        const encoded = await OUTPUTS[name].encode(sample, p.formats?.[name]);
        files.push([name, outputPath(dir, sample.source, name, encoded.ext), encoded]);
      }
      const written: Record<string, string> = {};
      try {
        for (const [name, path, { bytes }] of files) {
          await writeFileAtomic(path, bytes);
          written[name] = path;
        }
      } catch (error) {
        // All of a sample's outputs or none: a disk that fills half-way leaves nothing behind.
        // A queue worker that lost its job meanwhile removes nothing: those names are another worker's now.
        if (writeRefusal(error)) throw error;
        for (const path of Object.values(written)) await mayWrite(path);
        await Promise.all(Object.values(written).map((path) => rm(path, { force: true })));
        throw error;
      }
      return { ...recorded, metadata: { ...recorded.metadata, outputs: { ...(recorded.metadata?.outputs as object), ...written } } };
    },
    p.concurrency ?? 2,
  );
}

async function image(data: Image, format: ImageFormat | undefined, sample: Sample): Promise<Encoded> {
  const f = format ?? (data.dtype === 'float32' || ![1, 3, 4].includes(data.channels) ? 'tiff' : 'png');
  // Float multi-channel data goes to TIFF as one page per channel, which every reader (sharp, Fiji) understands.
  const tiff = f === 'tiff' || f === 'ome-tiff';
  const pages = tiff && data.channels > 1 && (data.dtype === 'float32' || ![3, 4].includes(data.channels))
    ? Array.from({ length: data.channels }, (_, c) => extractChannel(data, c))
    : data;
  return { bytes: await encodeImage(pages, f, { pixelSize: pixelSizeOf(sample) }), ext: extensionOf[f] };
}

/** The sample's pixel size; a tile saved without `stitch` has its parent's. */
function pixelSizeOf(sample: Sample): PixelSize | undefined {
  return sample.metadata?.pixelSize ?? sample.tile?.parent.metadata?.pixelSize;
}

/** A sample that `mirror` only recorded mirroring for (tile applies it) is saved as the mirrored image it stands for. */
function mirrored(sample: Sample): Sample {
  const m = sample.mirroring;
  return m ? { ...sample, ...mapPaddedFields(sample, (image) => mirrorPad(image, m.margins, m.mode)) } : sample;
}

/** A two-class mask (values 0/1) is written 0/255 so that it can be seen; class indices stay as they are. */
function binaryAs255(sample: Sample): Image {
  const mask = sample.mask!;
  const classes = sample.probabilities?.channels ?? 2;
  if (classes > 2 || mask.data.some((v) => v > 1)) return mask;
  return toInteger(mask, 'uint8', 255);
}

/** Objects to measure: the instances, or else the 4-connected regions of the mask's foreground. */
function objectsOf(sample: Sample): Image {
  if (sample.instances) return sample.instances;
  const mask = regionsOf(sample, 'measurements');
  const { labels } = connectedComponents(mask.data, mask.width, mask.height, 4);
  return makeImage(mask.width, mask.height, 1, 'float32', Float32Array.from(labels));
}

/** Regions to outline: the instances, or else the mask. */
function regionsOf(sample: Sample, output: string): Image {
  const regions = sample.instances ?? sample.mask;
  if (!regions) throw new Error(`cannot save '${output}': the sample has neither instances nor a mask (add threshold / instances before save)`);
  return regions;
}
