/**
 * Validation on whole held-out images: tiled prediction with the network's own
 * geometry (output tiles side by side, each input window mirrored past the border),
 * then pixel error, foreground IoU and the unweighted cross-entropy against the label.
 */
import { makeImage, type Image } from '../../image/image.js';
import { connectedComponents } from '../../kernels/components.js';
import { matchObjects } from '../../kernels/metrics/object-matching.js';
import { crop, mirrorPad } from '../../kernels/mirror.js';
import { createStitcher } from '../../kernels/stitch.js';
import { tileGrid, type TileGeometry } from '../../kernels/tiling.js';

/** Probabilities [count, out, out, K] for `count` square tiles of `size` px. */
export type PredictTiles = (images: Float32Array, count: number, size: number) => Promise<Float32Array>;

/**
 * Per-class probabilities (H × W × K) of a float32 image: output tiles of `output` px
 * cover it (the last row and column shifted back inside), each predicted from the
 * `input` px window around it. Same-padded networks (input = output) get no overlap.
 */
export async function predictImage(
  predict: PredictTiles,
  image: Image<'float32'>,
  sizes: { readonly input: number; readonly output: number },
  classes: number,
  batchSize = 4,
): Promise<Float32Array> {
  const { input, output } = sizes;
  // The same overlap-tile geometry and stitching as the mirror -> tile -> unet -> stitch operators.
  const geometry: TileGeometry = input === output ? { kind: 'same', tile: input, overlap: 0, window: 'uniform' } : { kind: 'valid', input, output };
  const grid = tileGrid(image.height, image.width, geometry);
  const padded = mirrorPad(image, grid.padding, 'reflect');
  const stitcher = createStitcher(grid, classes, 'float32');
  const size = input * input * image.channels;
  for (let first = 0; first < grid.count; first += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, grid.count - first) }, (_, i) => first + i);
    const images = new Float32Array(indices.length * size);
    indices.forEach((index, i) => {
      const y = grid.rows[Math.floor(index / grid.cols.length)];
      const x = grid.cols[index % grid.cols.length];
      images.set(crop(padded, { y, x, width: input, height: input }).data, i * size);
    });
    const p = await predict(images, indices.length, input);
    const per = output * output * classes;
    indices.forEach((index, i) => stitcher.add(index, makeImage(output, output, classes, 'float32', p.slice(i * per, (i + 1) * per))));
  }
  return stitcher.result().data;
}

export interface Scores {
  /** Fraction of pixels whose most probable class is not the label's. */
  readonly pixelError: number;
  /** Intersection over union of the predicted and true foreground (classes > 0; mean over them for K > 2). */
  readonly iou: number;
  /** Mean −log p(true class), unweighted. */
  readonly loss: number;
}

/** Scores probabilities (N × K) against class indices (N). */
export function score(probabilities: Float32Array, labels: Int32Array, classes: number): Scores {
  const n = labels.length;
  let wrong = 0;
  let loss = 0;
  const inter = new Float64Array(classes);
  const union = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probabilities[i * classes + k] > probabilities[i * classes + best]) best = k;
    const truth = labels[i];
    if (best !== truth) wrong++;
    loss -= Math.log(Math.max(probabilities[i * classes + truth], 1e-12));
    if (best === truth) inter[truth]++;
    union[truth]++;
    if (best !== truth) union[best]++;
  }
  let iou = 0;
  let counted = 0;
  for (let k = 1; k < classes; k++) {
    if (union[k] === 0) continue;
    iou += inter[k] / union[k];
    counted++;
  }
  return { pixelError: wrong / n, iou: counted ? iou / counted : 1, loss: loss / n };
}

/** Truth objects of a 2-class label: its ids when it holds more than one foreground value, else its 4-connected components. */
export function truthObjects(label: Image): Int32Array {
  const ids = new Set<number>();
  for (const v of label.data) if (v > 0 && ids.add(v).size > 1) break;
  if (ids.size > 1) return Int32Array.from(label.data);
  return connectedComponents(label.data, label.width, label.height, 4).labels;
}

/** Predicted objects: 4-connected components of the pixels whose most probable class is 1 (probabilities H × W × 2). */
export function predictedObjects(probabilities: Float32Array, width: number, height: number): Int32Array {
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = probabilities[2 * i + 1] > probabilities[2 * i] ? 1 : 0;
  return connectedComponents(mask, width, height, 4).labels;
}

/**
 * Object-level F1 of 2-class probabilities (H × W × 2) against truth objects: true and
 * predicted objects matched one to one at IoU >= 0.5 (object-matching.ts).
 */
export function objectF1(probabilities: Float32Array, truth: Int32Array, width: number, height: number): number {
  return matchObjects(truth, predictedObjects(probabilities, width, height)).f1;
}
