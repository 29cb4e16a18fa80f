/**
 * The U-Net of Ronneberger et al. (2015) written directly with tfjs ops and named
 * variables, rather than as a tfjs-layers model: training needs a per-pixel weighted
 * loss (which `model.fit` cannot take), dropout needs a fresh seeded mask per step
 * (a layers Dropout with a seed repeats its mask), and plain named weights are what
 * the store serialises and what worker threads exchange.
 *
 * Per level: two 3x3 convolutions + ReLU, then a 2x2 max-pool; channels double per
 * level. Up: a 2x2 stride-2 up-convolution halving channels, concatenation with the
 * centre-cropped skip, two 3x3 convolutions + ReLU. A final 1x1 convolution gives
 * K class logits. Dropout at the end of the contracting path.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../../random.js';
import type { UNetConfig } from './config.js';
import { sizeMap, type SizeMap } from './geometry.js';

export type { UNetConfig };

export const defaultConfig: UNetConfig = { depth: 4, baseFilters: 64, classes: 2, inputChannels: 1, padding: 'valid', dropout: 0.5 };

/** A complete configuration from a partial one, checked. */
export function unetConfig(partial: Partial<UNetConfig> = {}): UNetConfig {
  const c = { ...defaultConfig, ...partial };
  const positive = (name: keyof UNetConfig, min: number) => {
    const v = c[name] as number;
    if (!Number.isInteger(v) || v < min) throw new RangeError(`U-Net ${name} must be an integer >= ${min}, got ${v}`);
  };
  positive('depth', 0);
  positive('baseFilters', 1);
  positive('classes', 2);
  positive('inputChannels', 1);
  if (c.padding !== 'valid' && c.padding !== 'same') throw new RangeError(`U-Net padding must be 'valid' or 'same', got ${c.padding}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new RangeError(`U-Net dropout must be in [0, 1), got ${c.dropout}`);
  return c;
}

import { weightSpecs } from './weight-specs.js';

export { weightSpecs };

export type Weights = ReadonlyMap<string, tf.Variable>;

export interface ApplyOptions {
  /** Applies dropout. @default false */
  readonly training?: boolean;
  /**
   * One dropout seed per sample of the batch. Masks are drawn per sample, so a batch
   * split across workers draws the same masks as the whole batch in one place.
   * @default 0, 1, 2, ...
   */
  readonly dropoutSeeds?: readonly number[];
  /**
   * The input is the band of rows [top, top + rows) of taller tiles of `fullHeight`
   * rows (`bands` in geometry.ts): dropout masks are then cut from the whole tiles'
   * masks, so that bands computed apart see the same masks as the whole tile.
   */
  readonly band?: { readonly top: number; readonly fullHeight: number };
}

/** A U-Net: its configuration and weights. Dispose it to free the weights. */
export class UNet {
  constructor(
    readonly config: UNetConfig,
    readonly weights: Weights,
  ) {}

  /** He-initialised (normal, std sqrt(2/N)) weights and zero biases, drawn from `seed`. */
  static create(config: Partial<UNetConfig> = {}, seed = 0): UNet {
    const c = unetConfig(config);
    const weights = new Map<string, tf.Variable>();
    for (const s of weightSpecs(c)) {
      const init = s.fanIn === 0
        ? tf.zeros(s.shape)
        : tf.randomNormal(s.shape, 0, Math.sqrt(2 / s.fanIn), 'float32', deriveSeed(seed, s.name) % 2 ** 31);
      weights.set(s.name, tf.variable(init, true));
      init.dispose(); // tf.variable copies its initial value
    }
    return new UNet(c, weights);
  }

  /** A U-Net from stored weights (copied into new variables), checked against the config's shapes. */
  static fromTensors(config: UNetConfig, tensors: Readonly<Record<string, tf.Tensor>>): UNet {
    const c = unetConfig(config);
    const weights = new Map<string, tf.Variable>();
    for (const s of weightSpecs(c)) {
      const t = tensors[s.name];
      if (!t) throw new Error(`stored weights lack '${s.name}'`);
      if (t.shape.join('x') !== s.shape.join('x')) {
        throw new Error(`stored weight '${s.name}' has shape [${t.shape}], the configuration needs [${s.shape}]`);
      }
      weights.set(s.name, tf.variable(t, true));
    }
    return new UNet(c, weights);
  }

  /** Input -> output size for a tile of `input` px; throws naming the nearest valid sizes. */
  sizeMap(input: number): SizeMap {
    return sizeMap(input, this.config);
  }

  /** Class logits [N, out, out, K] for inputs [N, in, in, C]. Call inside tf.tidy. */
  apply(x: tf.Tensor4D, options: ApplyOptions = {}): tf.Tensor4D {
    const { depth, padding, dropout } = this.config;
    const w = (name: string) => {
      const v = this.weights.get(name);
      if (!v) throw new Error(`U-Net has no weight '${name}'`);
      return v;
    };
    const conv = (t: tf.Tensor4D, name: string, relu = true): tf.Tensor4D => {
      const y = tf.add(tf.conv2d(t, w(`${name}/kernel`) as tf.Tensor4D, 1, padding), w(`${name}/bias`)) as tf.Tensor4D;
      return relu ? tf.relu(y) : y;
    };
    const skips: tf.Tensor4D[] = [];
    let t = x;
    for (let level = 0; level < depth; level++) {
      t = conv(conv(t, `down${level}/conv1`), `down${level}/conv2`);
      skips.push(t);
      t = tf.maxPool(t, 2, 2, 'valid');
    }
    t = conv(conv(t, `down${depth}/conv1`), `down${depth}/conv2`);
    if (options.training && dropout > 0) t = perSampleDropout(t, dropout, options.dropoutSeeds, bottomRows(x.shape[1], t.shape[1], depth, options.band));
    for (let level = depth - 1; level >= 0; level--) {
      const up = upConv(t, w(`up${level}/upconv/kernel`), w(`up${level}/upconv/bias`));
      t = tf.concat([centreCrop(skips[level], up.shape[1], up.shape[2]), up], 3);
      t = conv(conv(t, `up${level}/conv1`), `up${level}/conv2`);
    }
    return conv(t, 'head', false);
  }

  /**
   * Class logits [N, out, out, K] for inference: `apply` without dropout, freeing each
   * feature map as soon as the next layer has read it (a skip once it is cropped), so
   * that the peak is a few maps and the skips rather than every map of the pass
   * (peak-bytes.ts estimates it; its order of allocations is this method's). Convolutions
   * are fused with their bias and ReLU. Leaves `x` alone; no gradients.
   */
  infer(x: tf.Tensor4D): tf.Tensor4D {
    const { depth, padding } = this.config;
    const w = (name: string) => this.weights.get(name) as tf.Tensor;
    const conv = (t: tf.Tensor4D, name: string, activation: 'relu' | 'linear' = 'relu') =>
      tf.fused.conv2d({ x: t, filter: w(`${name}/kernel`) as tf.Tensor4D, strides: 1, pad: padding, bias: w(`${name}/bias`), activation });
    const skips: tf.Tensor4D[] = [];
    let t = x;
    /** Moves on to `next`, freeing the current map unless it is the input or a skip. */
    const advance = (next: tf.Tensor4D) => {
      if (t !== x && !skips.includes(t)) t.dispose();
      t = next;
    };
    for (let level = 0; level < depth; level++) {
      advance(conv(t, `down${level}/conv1`));
      advance(conv(t, `down${level}/conv2`));
      skips.push(t);
      advance(tf.maxPool(t, 2, 2, 'valid'));
    }
    advance(conv(t, `down${depth}/conv1`));
    advance(conv(t, `down${depth}/conv2`));
    for (let level = depth - 1; level >= 0; level--) {
      // The skip is cropped first, so that its uncropped map is gone before the up-convolution's two.
      const skip = skips.pop()!;
      const crop = centreCrop(skip, 2 * t.shape[1], 2 * t.shape[2]);
      if (crop !== skip) skip.dispose();
      const up = inferUpConv(t, w(`up${level}/upconv/kernel`), w(`up${level}/upconv/bias`));
      advance(up);
      const joined = tf.concat([crop, up], 3);
      crop.dispose();
      advance(joined);
      advance(conv(t, `up${level}/conv1`));
      advance(conv(t, `up${level}/conv2`));
    }
    advance(conv(t, 'head', 'linear'));
    return t;
  }

  /** Number of trainable values. */
  get parameterCount(): number {
    let n = 0;
    for (const v of this.weights.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
  }
}

/**
 * 2x2 stride-2 transposed convolution written as one matrix product and a pixel
 * shuffle: exact, and it avoids the wasm backend's scalar Conv2DBackpropInput in the
 * forward pass.
 */
function upConv(x: tf.Tensor4D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor4D {
  const [n, h, wd, cin] = x.shape;
  const cout = bias.shape[0];
  const y = tf.matMul(tf.reshape(x, [n * h * wd, cin]), kernel as tf.Tensor2D);
  const blocks = tf.transpose(tf.reshape(y, [n * h, wd, 2, 2 * cout]), [0, 2, 1, 3]);
  return tf.add(tf.reshape(blocks, [n, 2 * h, 2 * wd, cout]), bias) as tf.Tensor4D;
}

/**
 * upConv for UNet.infer: the same product as a 1x1 convolution with the bias fused
 * (repeated for the 2x2 block's four column groups), then the pixel shuffle, each
 * reshaped view freed at once: two maps at its peak beside the input.
 */
function inferUpConv(x: tf.Tensor4D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor4D {
  const [n, h, wd, cin] = x.shape;
  const cout = bias.shape[0];
  const y = tf.tidy(() =>
    tf.fused.conv2d({ x, filter: tf.reshape(kernel, [1, 1, cin, 4 * cout]) as tf.Tensor4D, strides: 1, pad: 'valid', bias: tf.tile(bias, [4]) }),
  );
  const rows = tf.reshape(y, [n * h, wd, 2, 2 * cout]);
  y.dispose();
  const blocks = tf.transpose(rows, [0, 2, 1, 3]);
  rows.dispose();
  const out = tf.reshape(blocks, [n, 2 * h, 2 * wd, cout]) as tf.Tensor4D;
  blocks.dispose();
  return out;
}

/** Where the bottom map's rows lie in the whole tile's bottom map: [first row, rows of the whole]. */
function bottomRows(inputRows: number, rows: number, depth: number, band: ApplyOptions['band']): [number, number] {
  if (!band) return [0, rows];
  const scale = 2 ** depth;
  if (band.top % scale !== 0 || (band.fullHeight - inputRows) % scale !== 0) {
    throw new RangeError(`a band must start on the ${scale}-px pooling grid, got rows ${band.top} + ${inputRows} of ${band.fullHeight}`);
  }
  return [band.top / scale, rows + (band.fullHeight - inputRows) / scale];
}

/**
 * tf.dropout's multiplier, floor(u + keep) / keep with u ~ U[0, 1) drawn from the
 * sample's seed over the whole tile's bottom map and cut to this band's rows.
 */
function perSampleDropout(t: tf.Tensor4D, rate: number, seeds: readonly number[] | undefined, [top, fullRows]: [number, number]): tf.Tensor4D {
  const [n, rows, cols, channels] = t.shape;
  if (seeds && seeds.length !== n) throw new RangeError(`dropout: ${seeds.length} seeds for a batch of ${n}`);
  const keep = 1 - rate;
  const masks = Array.from({ length: n }, (_, i) => {
    const u = tf.randomUniform([1, fullRows, cols, channels], 0, 1, 'float32', seeds ? seeds[i] : i);
    const cut = fullRows === rows ? u : tf.slice(u, [0, top, 0, 0], [1, rows, cols, channels]);
    return tf.div(tf.floor(tf.add(cut, keep)), keep);
  });
  return tf.mul(t, n === 1 ? masks[0] : tf.concat(masks, 0)) as tf.Tensor4D;
}

function centreCrop(t: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const dy = (t.shape[1] - height) / 2;
  const dx = (t.shape[2] - width) / 2;
  if (dy === 0 && dx === 0) return t;
  return tf.slice(t, [0, dy, dx, 0], [-1, height, width, -1]);
}
