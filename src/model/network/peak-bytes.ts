/**
 * How much memory inference needs: the peak bytes of tensors that UNet.infer and a
 * predictor pass hold for one tile (replaying their order of allocations and frees;
 * every size scales with the batch, so a batch needs its tile count times as much).
 * The predictors cut batches and tiles into chunks that fit their engine's budget
 * (engines/choice.ts's memoryBudget).
 *
 * Tensor bytes are what tfjs's engine counts (`tf.memory().numBytes`, `tf.profile`'s
 * `peakBytes`). Kernels also use scratch memory the engine does not count (XNNPACK's
 * packed weights and indirection buffers on wasm), and a heap fragments: the budgets
 * leave room for both.
 */
import type { Augmentation } from '../inference/augmentation.js';
import type { NetworkLayers } from './flops.js';

const FLOAT = 4;

/** Live and peak bytes of a replayed sequence of allocations and frees. */
class Tally {
  live = 0;
  peak = 0;
  alloc(bytes: number): number {
    this.live += bytes;
    this.peak = Math.max(this.peak, this.live);
    return bytes;
  }
  free(bytes: number): void {
    this.live -= bytes;
  }
}

/** Bytes of one tile's `rows` x `cols` map of `channels` floats. */
const map = (rows: number, cols: number, channels: number) => rows * cols * channels * FLOAT;

/**
 * UNet.infer on one tile of `height` x `width` px (the input already allocated, by the
 * caller), on `tally`: every feature map it allocates and frees, in its order.
 */
function replayInfer(config: NetworkLayers, width: number, height: number, tally: Tally): number {
  const { depth, baseFilters: f, classes, padding } = config;
  const shrink = padding === 'valid' ? 2 : 0;
  let rows = height;
  let cols = width;
  let current = 0; // bytes of the current map; 0 while it is the caller's input
  const skips: { rows: number; cols: number; bytes: number }[] = [];
  const conv = (channels: number, size = 3) => {
    rows -= size === 3 ? shrink : 0;
    cols -= size === 3 ? shrink : 0;
    const out = tally.alloc(map(rows, cols, channels));
    tally.free(current);
    current = out;
  };
  for (let level = 0; level < depth; level++) {
    conv(f * 2 ** level);
    conv(f * 2 ** level);
    skips.push({ rows, cols, bytes: current });
    rows /= 2;
    cols /= 2;
    current = tally.alloc(map(rows, cols, f * 2 ** level)); // the skip stays
  }
  conv(f * 2 ** depth);
  conv(f * 2 ** depth);
  for (let level = depth - 1; level >= 0; level--) {
    const c = f * 2 ** level;
    const skip = skips.pop()!;
    const cropped = skip.rows !== 2 * rows || skip.cols !== 2 * cols;
    const crop = cropped ? tally.alloc(map(2 * rows, 2 * cols, c)) : skip.bytes;
    if (cropped) tally.free(skip.bytes);
    // The up-convolution's product and its pixel shuffle, then the product is freed.
    const product = tally.alloc(map(rows, cols, 4 * c));
    const up = tally.alloc(map(2 * rows, 2 * cols, c));
    tally.free(product);
    tally.free(current);
    rows *= 2;
    cols *= 2;
    current = tally.alloc(map(rows, cols, 2 * c));
    tally.free(crop);
    tally.free(up);
    conv(c);
    conv(c);
  }
  conv(classes, 1);
  return current;
}

/**
 * Peak bytes of the tensors UNet.infer allocates for one tile of `height` x `width`
 * px (beyond its input and the weights).
 */
export function forwardPeakBytes(config: NetworkLayers, width: number, height = width): number {
  const tally = new Tally();
  replayInfer(config, width, height, tally);
  return tally.peak;
}

/**
 * Peak bytes of the tensors predictProbabilities allocates per tile of `height` x
 * `width` px with augmentation `tta` (beyond the weights): the input, its flipped or
 * transposed copy, the forward pass, softmax, the copy flipped back and the running sum.
 */
export function predictionPeakBytes(config: NetworkLayers, width: number, height = width, tta: Augmentation = 'none'): number {
  const tally = new Tally();
  const input = tally.alloc(map(height, width, config.inputChannels));
  // Copies a symmetry makes of a map (one per flip and one per transpose; a flip and a
  // transpose hold both briefly), pass by pass in inference/predict.ts's order.
  const flips = tta === 'none' ? [0] : [0, 1, 1, 1];
  const copiesPerPass = (tta === 'dihedral' ? [0, 1] : [0]).flatMap((transpose) => flips.map((flip) => flip + transpose));
  const transform = (bytes: number, copies: number) => {
    for (let k = 0; k < copies; k++) tally.alloc(bytes);
    if (copies === 2) tally.free(bytes);
  };
  let sum = 0;
  for (const copies of copiesPerPass) {
    transform(input, copies);
    const logits = replayInfer(config, width, height, tally);
    if (copies) tally.free(input);
    const probabilities = tally.alloc(logits); // softmax
    tally.free(logits);
    transform(probabilities, copies);
    if (copies) tally.free(probabilities);
    if (sum) {
      tally.alloc(probabilities);
      tally.free(sum + probabilities);
    }
    sum = probabilities;
  }
  if (copiesPerPass.length > 1) {
    tally.alloc(sum); // the mean
    tally.free(sum);
  }
  return tally.peak;
}
