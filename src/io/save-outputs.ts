/**
 * What each output of `save` is and how it is encoded, whichever encoder the host has
 * (sharp in Node, write.ts; fast-png and the TIFF writer in a page,
 * src/web/image/encode.ts), so that the CLI and the page write the same files.
 */
import { extractChannel, toInteger } from '../image/convert.js';
import { makeImage, type Image } from '../image/image.js';
import type { PixelSize } from '../image/pixel-size.js';
import { connectedComponents } from '../kernels/components.js';
import { measureObjects, measurementsCsv } from '../kernels/measure.js';
import { mirrorPad } from '../kernels/mirror.js';
import { renderOverlay } from '../kernels/overlay.js';
import { mapPaddedFields, type Sample } from '../sample.js';
import { extensionOf, type EncodeOptions, type ImageFormat } from './image-format.js';

export interface Encoded {
  readonly bytes: Uint8Array | string;
  readonly ext: string;
}

/** An image encoder: write.ts's encodeImage in Node, encode.ts's in a page. */
export type ImageEncoder = (pages: Image | readonly Image[], format: ImageFormat, options: EncodeOptions) => Promise<Uint8Array>;

export type OutputName = 'image' | 'label' | 'weights' | 'probabilities' | 'mask' | 'instances' | 'overlay' | 'measurements';

type Encode = (s: Sample, f: ImageFormat | undefined, encoder: ImageEncoder) => Promise<Encoded> | Encoded;

/** What each output needs from the sample (named in the error when missing) and how it is encoded. */
const OUTPUTS: Record<OutputName, { needs: readonly (keyof Sample)[]; encode: Encode }> = {
  image: { needs: ['image'], encode: (s, f, e) => image(s.image, f, s, e) },
  label: { needs: ['label'], encode: (s, f, e) => image(s.label!, f, s, e) },
  // Float32 maps: TIFF, one page per class for probabilities (a Fiji stack).
  weights: { needs: ['weights'], encode: (s, f, e) => image(s.weights!, f ?? 'tiff', s, e) },
  probabilities: { needs: ['probabilities'], encode: (s, f, e) => image(s.probabilities!, f ?? 'tiff', s, e) },
  mask: { needs: ['mask'], encode: (s, f, e) => image(binaryAs255(s), f ?? 'png', s, e) },
  instances: { needs: ['instances'], encode: (s, f, e) => image(s.instances!, f ?? 'tiff', s, e) },
  overlay: { needs: ['image'], encode: (s, f, e) => image(renderOverlay(s.image, regionsOf(s, 'overlay')), f ?? 'png', s, e) },
  measurements: { needs: ['image'], encode: (s) => ({ bytes: measurementsCsv(measureObjects(objectsOf(s), s.image), pixelSizeOf(s)), ext: 'csv' }) },
};
export const outputNames = Object.keys(OUTPUTS) as [OutputName, ...OutputName[]];

/**
 * The file of output `name` for `sample` (as `save` has it: mirrored() first), in
 * `format` or the output's default; throws naming what the sample lacks.
 */
export async function encodeOutput(name: OutputName, sample: Sample, format: ImageFormat | undefined, encoder: ImageEncoder): Promise<Encoded> {
  const missing = OUTPUTS[name].needs.find((f) => !sample[f]);
  if (missing) throw new Error(`cannot save '${name}': the sample has no ${missing} (is a step missing before save?)`);
  return OUTPUTS[name].encode(sample, format, encoder);
}

async function image(data: Image, format: ImageFormat | undefined, sample: Sample, encoder: ImageEncoder): Promise<Encoded> {
  const f = format ?? (data.dtype === 'float32' || ![1, 3, 4].includes(data.channels) ? 'tiff' : 'png');
  // Float multi-channel data goes to TIFF as one page per channel, which every reader (sharp, Fiji) understands.
  const tiff = f === 'tiff' || f === 'ome-tiff';
  const pages = tiff && data.channels > 1 && (data.dtype === 'float32' || ![3, 4].includes(data.channels))
    ? Array.from({ length: data.channels }, (_, c) => extractChannel(data, c))
    : data;
  return { bytes: await encoder(pages, f, { pixelSize: pixelSizeOf(sample) }), ext: extensionOf[f] };
}

/** The sample's pixel size; a tile saved without `stitch` has its parent's. */
function pixelSizeOf(sample: Sample): PixelSize | undefined {
  return sample.metadata?.pixelSize ?? sample.tile?.parent.metadata?.pixelSize;
}

/** A sample that `mirror` only recorded mirroring for (tile applies it) is saved as the mirrored image it stands for. */
export function mirrored(sample: Sample): Sample {
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
