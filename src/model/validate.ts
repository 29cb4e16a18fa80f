/**
 * Validation on whole held-out images: tiled prediction with the network's own
 * geometry (output tiles side by side, each input window mirrored past the border),
 * then pixel error, foreground IoU and the unweighted cross-entropy against the label.
 */
import type { Image } from '../image/image.js';
import { mirroredCrop } from './training-tiles.js';

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
  const { width: w, height: h, channels: c } = image;
  const { input, output: o } = sizes;
  const m = (input - o) / 2;
  const starts = (n: number) => {
    const s: number[] = [];
    for (let v = 0; v < n; v += o) s.push(Math.max(0, Math.min(v, n - o)));
    return [...new Set(s)];
  };
  const windows = starts(h).flatMap((y) => starts(w).map((x) => ({ y, x })));
  const out = new Float32Array(w * h * classes);
  for (let b = 0; b < windows.length; b += batchSize) {
    const batch = windows.slice(b, b + batchSize);
    const images = new Float32Array(batch.length * input * input * c);
    batch.forEach(({ y, x }, i) => images.set(mirroredCrop(image, y - m, x - m, input, 'reflect').data, i * input * input * c));
    const p = await predict(images, batch.length, input);
    batch.forEach(({ y, x }, i) => {
      for (let r = 0; r < o && y + r < h; r++) {
        for (let col = 0; col < o && x + col < w; col++) {
          const from = ((i * o + r) * o + col) * classes;
          out.set(p.subarray(from, from + classes), ((y + r) * w + x + col) * classes);
        }
      }
    });
  }
  return out;
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
