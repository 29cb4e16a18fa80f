/**
 * The backward pass of each forward op, in standard ONNX ops that ONNX Runtime's CPU
 * provider runs fast (all NCHW, static shapes):
 * - convolution, input: a convolution of the output gradient with the kernel flipped
 *   and its channels swapped, padded by k - 1 - pad;
 * - convolution, kernel: per tap of the kernel, one Gemm of the output gradient
 *   [cout, N·H·W] with the shifted input [cin, N·H·W]ᵀ (Slices of it);
 * - up-convolution (2x2, stride 2): the input gradient is a stride-2 convolution with
 *   the same kernel; its kernel gradient one Gemm per tap over stride-2 Slices;
 * - max-pool: ScatterElements of the gradient to the positions MaxPool's Indices name;
 * - ReLU: Where its output is positive; crop: Pad; concatenation: Split.
 */
import { size, type GraphBuilder } from './builder.js';

/** ∂/∂x of Conv(x, w) (stride 1, `pad` px each side, square kernel). */
export function convInputGradient(g: GraphBuilder, dy: string, w: string, pad: number): string {
  const [cout, cin, k] = g.shape(w);
  let flipped = g.transpose(w, [1, 0, 2, 3]);
  if (k > 1) flipped = g.op('Slice', [flipped, g.ints([-1, -1]), g.ints([-k - 1, -k - 1]), g.ints([2, 3]), g.ints([-1, -1])], [cin, cout, k, k]);
  const [n, , h, wd] = g.shape(dy);
  const p = k - 1 - pad;
  return g.op('Conv', [dy, flipped], [n, cin, h + 2 * p - k + 1, wd + 2 * p - k + 1], { kernel_shape: [k, k], pads: [p, p, p, p], strides: [1, 1] });
}

/** ∂/∂w of Conv(x, w) [cout, cin, k, k], as k² Gemms over shifted views of x. */
export function convKernelGradient(g: GraphBuilder, dy: string, x: string, k: number, pad: number): string {
  const [n, cout, oh, ow] = g.shape(dy);
  const cin = g.shape(x)[1];
  const pixels = n * oh * ow;
  const dyRows = rowsOf(g, dy);
  // x as [cin, N, H, W], padded for `same`, so that each tap is one Slice of it.
  let xt = n === 1 ? g.reshape(x, [cin, 1, ...g.shape(x).slice(2)]) : g.transpose(x, [1, 0, 2, 3]);
  if (pad > 0) {
    const [, , h, w] = g.shape(xt);
    xt = g.op('Pad', [xt, g.ints([0, 0, pad, pad, 0, 0, pad, pad])], [cin, n, h + 2 * pad, w + 2 * pad]);
  }
  const taps: string[] = [];
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      const [, , h, w] = g.shape(xt);
      const shifted = ky === 0 && kx === 0 && h === oh && w === ow
        ? xt
        : g.op('Slice', [xt, g.ints([ky, kx]), g.ints([ky + oh, kx + ow]), g.ints([2, 3])], [cin, n, oh, ow]);
      const tap = g.op('Gemm', [dyRows, g.reshape(shifted, [cin, pixels])], [cout, cin], { transB: 1 });
      taps.push(g.reshape(tap, [cout, cin, 1]));
    }
  }
  const stacked = taps.length === 1 ? taps[0] : g.op('Concat', taps, [cout, cin, k * k], { axis: 2 });
  return g.reshape(stacked, [cout, cin, k, k]);
}

/** ∂/∂bias of a per-channel bias added to [N, C, H, W]. */
export function biasGradient(g: GraphBuilder, dy: string): string {
  return g.sum(dy, [0, 2, 3]);
}

/** ∂/∂x of ConvTranspose(x, w) with w [cin, cout, 2, 2], stride 2. */
export function upConvInputGradient(g: GraphBuilder, dy: string, w: string): string {
  const [n, , h, wd] = g.shape(dy);
  const cin = g.shape(w)[0];
  return g.op('Conv', [dy, w], [n, cin, h / 2, wd / 2], { kernel_shape: [2, 2], strides: [2, 2] });
}

/** ∂/∂w [cin, cout, 2, 2] of ConvTranspose(x, w), stride 2: one Gemm per tap of the 2x2 block. */
export function upConvKernelGradient(g: GraphBuilder, dy: string, x: string): string {
  const [n, cin, h, w] = g.shape(x);
  const cout = g.shape(dy)[1];
  const xRows = rowsOf(g, x);
  const taps: string[] = [];
  for (let dyy = 0; dyy < 2; dyy++) {
    for (let dx = 0; dx < 2; dx++) {
      const tap = g.op('Slice', [dy, g.ints([dyy, dx]), g.ints([2 * h, 2 * w]), g.ints([2, 3]), g.ints([2, 2])], [n, cout, h, w]);
      const product = g.op('Gemm', [xRows, rowsOf(g, tap)], [cin, cout], { transB: 1 });
      taps.push(g.reshape(product, [cin, cout, 1]));
    }
  }
  return g.reshape(g.op('Concat', taps, [cin, cout, 4], { axis: 2 }), [cin, cout, 2, 2]);
}

/** ∂/∂x of Relu, from its output r: the gradient where r > 0, else 0. */
export function reluGradient(g: GraphBuilder, dr: string, r: string): string {
  const positive = g.op('Greater', [r, g.scalar(0)], g.shape(r));
  return g.op('Where', [positive, dr, g.scalar(0)], g.shape(r));
}

/** ∂/∂x of a 2x2 max-pool: each gradient goes to the position its Indices output names. */
export function maxPoolGradient(g: GraphBuilder, dp: string, indices: string, x: string): string {
  const shape = g.shape(x);
  const zeros = g.op('ConstantOfShape', [g.ints([size(shape)])], [size(shape)]);
  const flat = g.op('ScatterElements', [zeros, g.reshape(indices, [size(g.shape(indices))]), g.reshape(dp, [size(g.shape(dp))])], [size(shape)], { axis: 0 });
  return g.reshape(flat, shape);
}

/** ∂/∂x of a centre crop by `margin` px: the gradient padded back with zeros. */
export function cropGradient(g: GraphBuilder, dc: string, margin: number): string {
  const [n, c, h, w] = g.shape(dc);
  return g.op('Pad', [dc, g.ints([0, 0, margin, margin, 0, 0, margin, margin])], [n, c, h + 2 * margin, w + 2 * margin]);
}

/** ∂/∂ of each part of a channel concatenation. */
export function concatGradient(g: GraphBuilder, d: string, channels: readonly number[]): string[] {
  const [n, , h, w] = g.shape(d);
  return g.multi('Split', [d, g.ints(channels)], channels.map((c) => ({ shape: [n, c, h, w] })), { axis: 1 });
}

/** [N, C, H, W] as [C, N·H·W] rows (a reshape alone when N is 1). */
function rowsOf(g: GraphBuilder, t: string): string {
  const [n, c, h, w] = g.shape(t);
  const nchw = n === 1 ? t : g.transpose(t, [1, 0, 2, 3]);
  return g.reshape(nchw, [c, n * h * w]);
}
