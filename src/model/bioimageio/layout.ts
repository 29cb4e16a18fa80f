/**
 * Moving tensors between unetflow's tile layout (batch, y, x, channel: NHWC, as Image
 * data is stored) and a package's own axis order (e.g. batch, channel, y, x), by axis id.
 */
import type { NamedTensor } from './processing.js';

/**
 * `x` with its axes in the order `axes`. An axis of `x` that `axes` lacks must have
 * extent 1 and is dropped; an axis of `axes` that `x` lacks is added with extent 1.
 */
export function transpose(x: NamedTensor, axes: readonly string[]): NamedTensor {
  for (const [d, a] of x.axes.entries()) {
    if (!axes.includes(a) && x.shape[d] !== 1) throw new Error(`a tensor with ${x.shape[d]} along '${a}' cannot take a layout without that axis [${axes.join(', ')}]`);
  }
  const shape = axes.map((a) => (x.axes.includes(a) ? x.shape[x.axes.indexOf(a)] : 1));
  const srcStrides = x.shape.map((_, d) => x.shape.slice(d + 1).reduce((p, q) => p * q, 1));
  // For each target dimension, the stride of the same axis in the source (0 for an added axis).
  const strides = axes.map((a) => (x.axes.includes(a) ? srcStrides[x.axes.indexOf(a)] : 0));
  const out = new Float32Array(x.data.length);
  const index = new Array<number>(shape.length).fill(0);
  let src = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = x.data[src];
    // Odometer over the target shape, moving `src` along with it.
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      src += strides[d];
      if (index[d] < shape[d]) break;
      src -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return { data: out, shape, axes: [...axes] };
}

/** The centre of one NHWC tile (`size` x `size` x `channels`) with `margin` px removed from each side. */
export function cropTile(data: Float32Array, size: number, channels: number, margin: number): Float32Array {
  if (margin === 0) return data;
  const out = size - 2 * margin;
  const result = new Float32Array(out * out * channels);
  for (let y = 0; y < out; y++) {
    const from = ((y + margin) * size + margin) * channels;
    result.set(data.subarray(from, from + out * channels), y * out * channels);
  }
  return result;
}
