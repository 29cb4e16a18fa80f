/**
 * The network's weights in ONNX's layouts and back: conv kernels tfjs HWIO
 * [k, k, cin, cout] <-> OIHW [cout, cin, k, k]; up-convolutions, unet.ts's matrix
 * [cin, 4 cout] (column (dy * 2 + dx) * cout + co) <-> ConvTranspose [cin, cout, 2, 2].
 * Biases are the same in both. Optimiser state follows its weight's layout.
 */
import { weightSpecs, type UNetConfig } from '../../network/unet.js';

export interface WeightLayout {
  readonly name: string;
  /** tfjs shape (weightSpecs). */
  readonly shape: number[];
  /** ONNX shape. */
  readonly onnxShape: number[];
}

export function weightLayouts(config: UNetConfig): WeightLayout[] {
  return weightSpecs(config).map(({ name, shape }) => ({ name, shape, onnxShape: onnxShapeOf(name, shape) }));
}

function onnxShapeOf(name: string, shape: number[]): number[] {
  if (name.endsWith('/bias')) return shape;
  if (name.includes('/upconv/')) return [shape[0], shape[1] / 4, 2, 2];
  const [k, , cin, cout] = shape;
  return [cout, cin, k, k];
}

/** A weight (or its optimiser state) from the tfjs layout to ONNX's. */
export function toOnnx(layout: WeightLayout, data: Float32Array): Float32Array {
  return convert(layout, data, true);
}

/** A weight (or its optimiser state) from ONNX's layout to tfjs's. */
export function toTfjs(layout: WeightLayout, data: Float32Array): Float32Array {
  return convert(layout, data, false);
}

function convert({ name, shape }: WeightLayout, data: Float32Array, forward: boolean): Float32Array {
  if (name.endsWith('/bias')) return Float32Array.from(data);
  const out = new Float32Array(data.length);
  if (name.includes('/upconv/')) {
    const cin = shape[0];
    const cout = shape[1] / 4;
    for (let i = 0; i < cin; i++)
      for (let o = 0; o < cout; o++)
        for (let t = 0; t < 4; t++) {
          const tf = i * 4 * cout + t * cout + o;
          const onnx = (i * cout + o) * 4 + t;
          if (forward) out[onnx] = data[tf];
          else out[tf] = data[onnx];
        }
    return out;
  }
  const [kh, kw, cin, cout] = shape;
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) {
          const tf = ((y * kw + x) * cin + i) * cout + o;
          const onnx = ((o * cin + i) * kh + y) * kw + x;
          if (forward) out[onnx] = data[tf];
          else out[tf] = data[onnx];
        }
  return out;
}
