/**
 * How much memory inference needs, and how much it may take: the peak bytes of tensors
 * that UNet.infer and a predictor pass hold for one tile (replaying their order of
 * allocations and frees; every size scales with the batch, so a batch needs its tile
 * count times as much), and each engine's budget for them. predictor.ts cuts batches
 * and tiles into chunks that fit the budget.
 *
 * Tensor bytes are what tfjs's engine counts (`tf.memory().numBytes`, `tf.profile`'s
 * `peakBytes`). Kernels also use scratch memory the engine does not count (XNNPACK's
 * packed weights and indirection buffers on wasm), and a heap fragments: the budgets
 * leave room for both.
 */
import { totalmem } from 'node:os';
import type { Augmentation } from '../inference/predict.js';
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
  // transpose hold both briefly), pass by pass in predictor.ts's order.
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

/**
 * Process memory ONNX Runtime's CPU provider takes per byte of this file's tensor
 * estimate: its arena keeps buffers by size and its NCHWc convolutions hold blocked
 * copies. Measured (bench/inference-run.ts, 16 filters, peak RSS above the ~0.4 GiB of
 * model and runtime): one 2236 px tile, 1.03 GiB estimated, ~2.6 GiB; chunks of three
 * 1212 px tiles, 0.78 GiB estimated, ~2.7 GiB.
 */
export const ONNX_RUNTIME_FACTOR = 3.5;

/** The most a wasm engine's heap can grow to (emscripten's limit in tfjs-backend-wasm: 4 GiB - 64 KiB). */
export const WASM_HEAP_BYTES = 4294901760;

export interface BudgetOptions {
  /** Engines (worker threads) running side by side, sharing the machine's memory. @default 1 */
  readonly engines?: number;
  /** Bytes of the network's weights (4 per parameter). @default 0 */
  readonly weightBytes?: number;
  /**
   * Memory of the device the engine computes on, where the backend knows it (a GPU's):
   * half of it is the budget, in place of the 2 GiB default. @default unknown
   */
  readonly deviceBytes?: number;
}

/**
 * Tensor bytes one inference chunk may hold on `backend` (a tfjs backend name, or
 * `onnxruntime`).
 *
 * - wasm: each engine has its own heap of at most 4 GiB, which never shrinks. It also
 *   holds the weights twice (tfjs's copy and XNNPACK's packed one) and XNNPACK's
 *   indirection buffers (36 bytes per output pixel of every 3x3 convolution: ~45 MiB
 *   at 572 px), and it fragments: measured at 572 px (16 and 64 filters, 1 to 4 tiles
 *   a chunk), the heap grew by 1.3 to 1.4 bytes per byte of memory.ts's estimate, on
 *   top of ~60 MiB plus the weights twice. So a chunk gets what is left of three
 *   quarters of the heap once the weights are counted twice, divided by 1.5: ~2 GiB
 *   for the 16-filter network, ~1.85 GiB for the paper's 64 filters, for a heap that
 *   then peaks near 3 GiB.
 * - a GPU whose memory the backend reports (`deviceBytes`): half of it, less the weights.
 * - onnxruntime: 2 GiB of process memory, which is ONNX_RUNTIME_FACTOR times the
 *   tensors estimated here.
 * - cpu, tensorflow (tfjs-node): no per-engine ceiling; 2 GiB by default, so that a
 *   large batch of large tiles does not take the machine.
 *
 * Either way at most half the machine's memory, shared by the engines.
 */
export function memoryBudget(backend: string, { engines = 1, weightBytes = 0, deviceBytes }: BudgetOptions = {}): number {
  const own =
    backend === 'wasm'
      ? (0.75 * WASM_HEAP_BYTES - 2 * weightBytes) / 1.5
      : deviceBytes !== undefined
        ? deviceBytes / 2 - weightBytes
        : (2 * 2 ** 30) / (backend === 'onnxruntime' ? ONNX_RUNTIME_FACTOR : 1);
  return Math.max(0, Math.min(own, totalmem() / 2 / Math.max(1, engines)));
}

/**
 * The budget `tile: { size: auto }` chooses tile sizes under, known before any engine
 * is loaded: that of the backend `choice` (a run's or step's `backend`), and for `auto`
 * the smaller of ONNX Runtime's and wasm's, either of which it may pick. One tile per
 * chunk: the predictors cut a batch into chunks that fit, whatever the tile size.
 */
export function plannedBudget(choice: string, weightBytes: number): number {
  const engines = choice === 'auto' ? ['onnxruntime', 'wasm'] : [choice];
  return Math.min(...engines.map((name) => memoryBudget(name, { weightBytes })));
}
