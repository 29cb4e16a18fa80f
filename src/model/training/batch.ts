/**
 * Training samples as the trainer takes them: each tile checked against the network,
 * its label as class indices and its weights cropped to the output, and a batch of
 * them as one set of plain arrays (training/trainer.ts's Batch).
 */
import type { Image } from '../../image/image.js';
import { requireChannels } from '../../image/image.js';
import { crop } from '../../kernels/mirror.js';
import type { Sample } from '../../sample.js';
import type { Batch } from './trainer.js';

export interface TrainingTile {
  readonly sample: Sample;
  /** The tile as it came, normalised once the batch is formed (`recompute` needs the first batch's raw values). */
  readonly image: Image;
  readonly size: number;
  readonly labels: Int32Array;
  readonly weights?: Float32Array;
}

/**
 * A sample as a training tile for a network of `inputChannels` and `classes` whose
 * output is `output(size)` px for a `size` px tile.
 */
export function trainingTile(sample: Sample, inputChannels: number, classes: number, output: (size: number) => number): TrainingTile {
  requireChannels(sample.image, inputChannels, 'the network input');
  const { width, height } = sample.image;
  if (width !== height) throw new RangeError(`training tiles must be square, got ${width}x${height}`);
  const out = output(width);
  if (!sample.label) throw new Error('training needs a label');
  const labels = classIndices(centre(sample.label, out, 'label'), classes);
  const weights = sample.weights ? Float32Array.from(centre(sample.weights, out, 'weights')) : undefined;
  return { sample, image: sample.image, size: width, labels, weights };
}

/** Class index per pixel: for 2 classes any value > 0 is foreground, else the value itself. */
export function classIndices(values: ArrayLike<number>, classes: number): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < out.length; i++) {
    const v = values[i];
    if (classes === 2) out[i] = v > 0 ? 1 : 0;
    else if (Number.isInteger(v) && v >= 0 && v < classes) out[i] = v;
    else throw new RangeError(`label value ${v} is not a class index (0 to ${classes - 1})`);
  }
  return out;
}

/** The single-channel values of the centred `size` square of `image` (a tile, or its output part). */
function centre(image: Image, size: number, what: string): ArrayLike<number> {
  requireChannels(image, 1, what);
  if (image.width !== image.height || image.width < size || (image.width - size) % 2 !== 0) {
    throw new RangeError(`${what} is ${image.width}x${image.height}; expected the tile's size or the output size ${size}x${size}`);
  }
  const m = (image.width - size) / 2;
  return m === 0 ? image.data : crop(image, { x: m, y: m, width: size, height: size }).data;
}

/** The tiles, with their normalised `inputs`, as one batch; they must share one size. */
export function toBatch(batch: readonly TrainingTile[], inputs: Float32Array[]): Batch {
  const size = batch[0].size;
  if (batch.some((b) => b.size !== size)) throw new RangeError('a batch mixes tile sizes; give every training tile the same size');
  const concat = <A extends Float32Array | Int32Array>(parts: A[], make: (n: number) => A): A => {
    const out = make(parts.reduce((n, a) => n + a.length, 0));
    let o = 0;
    for (const a of parts) {
      out.set(a, o);
      o += a.length;
    }
    return out;
  };
  const anyWeights = batch.some((b) => b.weights);
  return {
    count: batch.length,
    inputSize: size,
    images: concat(inputs, (n) => new Float32Array(n)),
    labels: concat(batch.map((b) => b.labels), (n) => new Int32Array(n)),
    weights: anyWeights ? concat(batch.map((b) => b.weights ?? new Float32Array(b.labels.length).fill(1)), (n) => new Float32Array(n)) : undefined,
  };
}
