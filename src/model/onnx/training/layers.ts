/**
 * The U-Net's forward pass (the layers of network/unet.ts in ONNX's NCHW layout, as
 * onnx/export.ts writes them for inference), each op recording its backward
 * (gradients.ts) on the tape.
 */
import type { GraphBuilder } from './builder.js';
import {
  biasGradient,
  concatGradient,
  convInputGradient,
  convKernelGradient,
  cropGradient,
  maxPoolGradient,
  reluGradient,
  upConvInputGradient,
  upConvKernelGradient,
} from './gradients.js';
import type { Tape } from './tape.js';

/** Conv(x, w) + b, stride 1, `pad` px each side. */
export function conv(t: Tape, x: string, w: string, b: string, pad: number): string {
  const g = t.g;
  const [n, , h, wd] = g.shape(x);
  const [cout, , k] = g.shape(w);
  const y = g.op('Conv', [x, w, b], [n, cout, h + 2 * pad - k + 1, wd + 2 * pad - k + 1], { kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [1, 1] });
  t.record([x, w, b], y, (dy, give) => {
    if (t.needsGradient(w)) give(w, convKernelGradient(g, dy, x, k, pad));
    if (t.needsGradient(b)) give(b, biasGradient(g, dy));
    if (t.needsGradient(x)) give(x, convInputGradient(g, dy, w, pad));
  });
  return y;
}

export function relu(t: Tape, y: string): string {
  const r = t.g.op('Relu', [y], t.g.shape(y));
  t.record([y], r, (dr, give) => give(y, reluGradient(t.g, dr, r)));
  return r;
}

/** 2x2 stride-2 max-pool (a trailing odd row or column is dropped, as tfjs's `valid`). */
export function maxPool(t: Tape, x: string): string {
  const [n, c, h, w] = t.g.shape(x);
  const [p, indices] = t.g.multi('MaxPool', [x], [{ shape: [n, c, Math.floor(h / 2), Math.floor(w / 2)] }, { shape: [n, c, Math.floor(h / 2), Math.floor(w / 2)] }], { kernel_shape: [2, 2], strides: [2, 2] });
  t.record([x], p, (dp, give) => give(x, maxPoolGradient(t.g, dp, indices, x)));
  return p;
}

/** x times a dropout multiplier given as a graph input (0 or 1 / keep per value). */
export function dropout(t: Tape, x: string, mask: string): string {
  const y = t.g.mul(x, mask);
  t.record([x], y, (dy, give) => give(x, t.g.mul(dy, mask)));
  return y;
}

/** ConvTranspose(x, w) + b with w [cin, cout, 2, 2], stride 2. */
export function upConv(t: Tape, x: string, w: string, b: string): string {
  const g = t.g;
  const [n, , h, wd] = g.shape(x);
  const y = g.op('ConvTranspose', [x, w, b], [n, g.shape(w)[1], 2 * h, 2 * wd], { kernel_shape: [2, 2], strides: [2, 2] });
  t.record([x, w, b], y, (dy, give) => {
    if (t.needsGradient(w)) give(w, upConvKernelGradient(g, dy, x));
    if (t.needsGradient(b)) give(b, biasGradient(g, dy));
    if (t.needsGradient(x)) give(x, upConvInputGradient(g, dy, w));
  });
  return y;
}

/** The centre of x, `margin` px cut from each side. */
export function crop(t: Tape, x: string, margin: number): string {
  if (margin === 0) return x;
  const [n, c, h, w] = t.g.shape(x);
  const y = t.g.op('Slice', [x, t.g.ints([margin, margin]), t.g.ints([h - margin, w - margin]), t.g.ints([2, 3])], [n, c, h - 2 * margin, w - 2 * margin]);
  t.record([x], y, (dy, give) => give(x, cropGradient(t.g, dy, margin)));
  return y;
}

/** Channel concatenation of a and b. */
export function concat(t: Tape, a: string, b: string): string {
  const [n, ca, h, w] = t.g.shape(a);
  const cb = t.g.shape(b)[1];
  const y = t.g.op('Concat', [a, b], [n, ca + cb, h, w], { axis: 1 });
  t.record([a, b], y, (dy, give) => {
    const [da, db] = concatGradient(t.g, dy, [ca, cb]);
    give(a, da);
    give(b, db);
  });
  return y;
}
