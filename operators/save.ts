import * as t from 'io-ts';
import { resolve } from 'node:path';
import { ConfigError } from '../src/errors.js';
import { PositiveInt, oneOf, closedObject } from '../src/codec/building-blocks.js';
import { mayWrite, writeRefusal } from '../src/io/write-guard.js';
import { outputPath } from '../src/io/output-path.js';
import { encodeOutput, mirrored, outputNames, type Encoded, type OutputName } from '../src/io/save-outputs.js';
import type { ImageFormat } from '../src/io/image-format.js';
import { nodeOutputs } from '../src/host/node/outputs.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export type { OutputName } from '../src/io/save-outputs.js';

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
  const out = ctx.outputs ?? nodeOutputs;
  return perSample(
    'save',
    ctx,
    async (recorded) => {
      const sample = mirrored(recorded);
      // Encode everything first: a sample that cannot give every output writes none.
      const files: [OutputName, string, Encoded][] = [];
      for (const name of p.outputs) {
        const encoded = await encodeOutput(name, sample, p.formats?.[name], out.encode);
        files.push([name, outputPath(dir, sample.source, name, encoded.ext), encoded]);
      }
      const written: Record<string, string> = {};
      try {
        for (const [name, path, { bytes }] of files) {
          await out.write(path, bytes);
          written[name] = path;
        }
      } catch (error) {
        // All of a sample's outputs or none: a disk that fills half-way leaves nothing behind.
        // A queue worker that lost its job meanwhile removes nothing: those names are another worker's now.
        if (writeRefusal(error)) throw error;
        for (const path of Object.values(written)) await mayWrite(path);
        await Promise.all(Object.values(written).map((path) => out.remove(path)));
        throw error;
      }
      return { ...recorded, metadata: { ...recorded.metadata, outputs: { ...(recorded.metadata?.outputs as object), ...written } } };
    },
    p.concurrency ?? 2,
  );
}
