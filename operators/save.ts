import * as t from 'io-ts';
import { resolve } from 'node:path';
import { ConfigError } from '../src/errors.js';
import { PositiveInt, oneOf, strict } from '../src/codec/strict.js';
import { extractChannel } from '../src/image/convert.js';
import type { Image } from '../src/image/image.js';
import { outputPath } from '../src/io/output-path.js';
import { extensionOf, writeImage, type ImageFormat } from '../src/io/write.js';
import type { Sample } from '../src/sample.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

/** What each output writes, and in which format unless `formats` says otherwise. */
const OUTPUTS = {
  image: { field: 'image', format: 'auto' },
  label: { field: 'label', format: 'auto' },
  // Float32 maps: TIFF, one page per class for probabilities (a Fiji stack).
  weights: { field: 'weights', format: 'tiff' },
  probabilities: { field: 'probabilities', format: 'tiff' },
  mask: { field: 'mask', format: 'png' },
  instances: { field: 'instances', format: 'tiff' },
} as const;
export type OutputName = keyof typeof OUTPUTS;
const outputNames = Object.keys(OUTPUTS) as [OutputName, ...OutputName[]];

export const SaveParams = strict(
  'save parameters',
  {
    /** Output folder, relative to the pipeline file. */
    dir: t.string,
    /** What to write; a sample lacking one of them is an error. */
    outputs: t.array(oneOf(outputNames)),
  },
  {
    /** Format per output, overriding the default (PNG for 8/16-bit images, TIFF for float32 and multi-channel data). */
    formats: t.partial(Object.fromEntries(outputNames.map((n) => [n, oneOf(['png', 'tiff', 'jpeg'])])) as Record<OutputName, t.Type<ImageFormat>>),
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
 * @example
 * samples$.pipe(save({ dir: 'out', outputs: ['mask', 'probabilities'] }))
 * @see load
 */
export function save(params: SaveParams, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('save', SaveParams, params);
  if (p.outputs.length === 0) throw new ConfigError('save: outputs is empty: name at least one of ' + outputNames.join(', '));
  const dir = resolve(ctx.baseDir ?? process.cwd(), p.dir);
  return perSample(
    'save',
    ctx,
    async (sample) => {
      const written: Record<string, string> = {};
      for (const name of p.outputs) {
        const image = sample[OUTPUTS[name].field] as Image | undefined;
        if (!image) throw new Error(`cannot save '${name}': the sample has no ${OUTPUTS[name].field} (is a step missing before save?)`);
        const format = p.formats?.[name] ?? defaultFormat(OUTPUTS[name].format, image);
        const path = outputPath(dir, sample.source, name, extensionOf[format]);
        await writeImage(path, pagesFor(image, format), format);
        written[name] = path;
      }
      return { ...sample, metadata: { ...sample.metadata, outputs: { ...(sample.metadata?.outputs as object), ...written } } };
    },
    p.concurrency ?? 2,
  );
}

function defaultFormat(format: 'auto' | ImageFormat, image: Image): ImageFormat {
  if (format !== 'auto') return format;
  return image.dtype === 'float32' || ![1, 3, 4].includes(image.channels) ? 'tiff' : 'png';
}

/** Float multi-channel data goes to TIFF as one page per channel, which every reader (sharp, Fiji) understands. */
function pagesFor(image: Image, format: ImageFormat): Image | Image[] {
  if (format !== 'tiff' || image.channels === 1 || (image.dtype !== 'float32' && [3, 4].includes(image.channels))) return image;
  return Array.from({ length: image.channels }, (_, c) => extractChannel(image, c));
}
