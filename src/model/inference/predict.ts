/**
 * Class probabilities for batches of tiles on a tfjs engine, with optional test-time
 * augmentation (augmentation.ts): the network sees the tile flipped / rotated, each
 * prediction is transformed back and the softmax outputs are averaged.
 *
 * Memory: passes run one after another, each freeing its maps as it goes
 * (UNet.infer), and a batch is cut into chunks of tiles whose passes fit the
 * engine's budget (engines/), so that a wasm heap (4 GiB at most) is never overrun.
 * Each chunk is read back with `data()`: a GPU engine (webgpu) cannot read
 * synchronously in Node, and none need block while the device works.
 */
import * as tf from '@tensorflow/tfjs';
import { bands, sizeMap, type Band } from '../network/geometry.js';
import { forwardPeakBytes, predictionPeakBytes } from '../network/peak-bytes.js';
import type { UNet } from '../network/unet.js';
import { forward, inverse, symmetries, type Augmentation, type Symmetry } from './augmentation.js';

export interface PredictOptions {
  /** Rows of each tile, for bands of taller tiles (transposing augmentations need squares). @default the width */
  readonly height?: number;
  /**
   * Tensor bytes a chunk may hold (the engine's memoryBudget, engines/choice.ts). Tiles
   * are predicted in chunks that fit it, one pass after another; a tile that does not
   * fit alone goes through the network in bands of rows (valid padding; exact).
   * @default no limit: the engines always pass theirs
   */
  readonly budgetBytes?: number;
  /** Only these passes of the augmentation, [from, to) in `symmetries` order (a worker's share). @default all */
  readonly passes?: readonly [number, number];
}

/**
 * Softmax probabilities [N, out rows, out, K] (flattened, NHWC) for `count` tiles of
 * `width` px given as float32 NHWC, averaged over the augmentation's passes.
 */
export async function predictProbabilities(
  model: UNet,
  images: Float32Array,
  count: number,
  width: number,
  tta: Augmentation = 'none',
  options: PredictOptions = {},
): Promise<Float32Array> {
  const { out, chunks } = plan(model, images, count, width, tta, options);
  for (const chunk of chunks) {
    const mean = tf.tidy(chunk.mean);
    try {
      out.set(await mean.data(), chunk.offset);
    } finally {
      mean.dispose();
    }
  }
  return out;
}

/** The output array and the chunks of tiles that fit the budget, each computing its mean probabilities (inside a tidy). */
function plan(
  model: UNet,
  images: Float32Array,
  count: number,
  width: number,
  tta: Augmentation,
  { height = width, budgetBytes = Infinity, passes: range }: PredictOptions,
): { out: Float32Array; chunks: { offset: number; mean: () => tf.Tensor }[] } {
  const config = model.config;
  const c = config.inputChannels;
  if (images.length !== count * height * width * c) {
    throw new RangeError(`predict: ${images.length} values for ${count} tiles of ${height}x${width}x${c}`);
  }
  // Clear errors for impossible tile sizes.
  const outCols = model.sizeMap(width).output;
  const outRows = model.sizeMap(height).output;
  if (tta === 'dihedral' && height !== width) throw new RangeError(`dihedral augmentation needs square tiles, got ${height}x${width}`);
  const passes = symmetries(tta).slice(...(range ?? []));
  const perTile = predictionPeakBytes(config, width, height, tta);
  const chunk = Math.min(count, Math.floor(budgetBytes / perTile));
  const bandList = chunk === 0 ? tileBands(config, width, height, budgetBytes, perTile) : undefined;
  const tileIn = height * width * c;
  const tileOut = outRows * outCols * config.classes;
  const out = new Float32Array(count * tileOut);
  const step = Math.max(1, chunk);
  const chunks = [];
  for (let from = 0; from < count; from += step) {
    const n = Math.min(step, count - from);
    // Each tensor is freed by hand as soon as it has been used; the caller's tidy frees the rest if a pass throws.
    const mean = () => {
      const x = tf.tensor4d(images.subarray(from * tileIn, (from + n) * tileIn), [n, height, width, c]);
      let sum: tf.Tensor4D | undefined;
      for (const s of passes) sum = accumulate(sum, pass(model, x, s, bandList));
      return passes.length === 1 ? sum! : tf.div(sum!, passes.length);
    };
    chunks.push({ offset: from * tileOut, mean });
  }
  return { out, chunks };
}

/**
 * One augmentation pass: probabilities for the tiles `x` seen through `s`, mapped
 * back. Each tensor is freed as soon as the next has been made (peak-bytes.ts replays
 * this order); the forward runs in `bandList` bands of rows when given.
 */
function pass(model: UNet, x: tf.Tensor4D, s: Symmetry, bandList: Band[] | undefined): tf.Tensor4D {
  const seen = tf.tidy(() => forward(x, s));
  const logits = bandList ? inferInBands(model, seen, bandList) : model.infer(seen);
  if (seen !== x) seen.dispose();
  const p = tf.softmax(logits) as tf.Tensor4D;
  logits.dispose();
  const back = tf.tidy(() => inverse(p, s));
  if (back !== p) p.dispose();
  return back;
}

function accumulate(sum: tf.Tensor4D | undefined, p: tf.Tensor4D): tf.Tensor4D {
  if (!sum) return p;
  const next = tf.add(sum, p) as tf.Tensor4D;
  tf.dispose([sum, p]);
  return next;
}

/** Logits of one tile computed band by band, each band's own rows kept. */
function inferInBands(model: UNet, x: tf.Tensor4D, bandList: Band[]): tf.Tensor4D {
  const own = bandList.map((b) => {
    const rows = tf.slice(x, [0, b.inputTop, 0, 0], [-1, b.inputRows, -1, -1]);
    const logits = model.infer(rows);
    rows.dispose();
    const kept = tf.slice(logits, [0, b.ownTop - b.outputTop, 0, 0], [-1, b.ownRows, -1, -1]);
    logits.dispose();
    return kept;
  });
  const whole = tf.concat(own, 1);
  tf.dispose(own);
  return whole;
}

/**
 * The fewest bands whose forward pass, with the whole tile's maps around it, fits
 * `budgetBytes`; throws, naming the sizes, where none does.
 */
function tileBands(config: UNet['config'], width: number, height: number, budgetBytes: number, perTile: number): Band[] {
  const map = (rows: number, cols: number, channels: number) => 4 * rows * cols * channels;
  const input = map(height, width, config.inputChannels);
  const output = map(sizeMap(height, config).output, sizeMap(width, config).output, config.classes);
  // Beside a band's pass: the tile and its transformed copy, the band's rows, the running
  // sum and the bands' logits so far. Before and after it (transforms, softmax) at most
  // three input-sized or five output-sized maps are held.
  const need = (b: Band) =>
    Math.max(forwardPeakBytes(config, width, b.inputRows) + 2 * input + map(b.inputRows, width, config.inputChannels) + 2 * output, 3 * input + output, input + 5 * output);
  for (let parts = 2; parts <= height; parts++) {
    const list = bands(height, config, parts);
    if (list.length < parts) break; // no more bands to be had
    if (Math.max(...list.map(need)) <= budgetBytes) return list;
  }
  throw new RangeError(
    `a ${height}x${width} px tile needs ${size(perTile)} for one pass of this network, more than the ${size(budgetBytes)} an inference chunk may use on ${tf.getBackend()}` +
      (config.padding === 'valid' ? ', even in bands of rows' : ' (same-padded networks cannot be split into bands)') +
      '; use smaller tiles',
  );
}

function size(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : bytes >= 2 ** 20 ? `${Math.round(bytes / 2 ** 20)} MiB` : `${Math.ceil(bytes / 2 ** 10)} KiB`;
}
