/**
 * Our U-Net (src/model/network/unet.ts) as an ONNX model for inference: the same layers, in
 * ONNX's NCHW layout, ending in a softmax over the class channels. Dropout is the
 * identity at inference and is left out.
 *
 * Input `image` [batch, inputChannels, height, width] float32 and output
 * `probabilities` [batch, classes, outHeight, outWidth]; batch and spatial sizes are
 * dynamic. The centre crops of the skip connections do not depend on the tile size
 * (every size along the network is affine in the bottom size with the same slope for
 * a skip and the up-convolution it meets), so each is a Slice with constant margins.
 */
import { validSizes } from '../network/geometry.js';
import type { UNetConfig } from '../network/config.js';
import { weightSpecs } from '../network/weight-specs.js';
import { floatTensor, floatValueInfo, int64Tensor, model, node, type Graph } from './messages.js';
import type { Message } from './protobuf.js';

export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'probabilities';

/**
 * The ONNX ModelProto bytes of a U-Net with `weights` (named and shaped as
 * `weightSpecs(config)`, tfjs layouts: HWIO kernels, [cin, 4 cout] up-convolutions).
 * @param name names the graph, e.g. the model directory
 */
export function exportUNet(config: UNetConfig, weights: ReadonlyMap<string, Float32Array>, name = 'unet'): Uint8Array {
  const specs = new Map(weightSpecs(config).map((s) => [s.name, s.shape]));
  const weight = (key: string): { shape: number[]; data: Float32Array } => {
    const shape = specs.get(key)!;
    const data = weights.get(key);
    if (!data) throw new Error(`ONNX export of ${name}: the weights lack '${key}'`);
    if (data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`ONNX export of ${name}: '${key}' has ${data.length} values, [${shape}] needs ${shape.reduce((a, b) => a * b, 1)}`);
    return { shape, data };
  };
  const nodes: Message[] = [];
  const initializers: Message[] = [];

  const conv = (x: string, layer: string, relu = true): string => {
    const { shape, data } = weight(`${layer}/kernel`);
    const [k, , , cout] = shape;
    initializers.push(floatTensor(`${layer}/W`, [cout, shape[2], k, k], hwioToOihw(data, shape)));
    initializers.push(floatTensor(`${layer}/B`, [cout], weight(`${layer}/bias`).data));
    const pad = config.padding === 'same' ? (k - 1) / 2 : 0;
    nodes.push(node('Conv', layer, [x, `${layer}/W`, `${layer}/B`], [layer], { kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [1, 1] }));
    if (!relu) return layer;
    nodes.push(node('Relu', `${layer}/relu`, [layer], [`${layer}/relu`]));
    return `${layer}/relu`;
  };

  const upConv = (x: string, level: number): string => {
    const layer = `up${level}/upconv`;
    const { shape, data } = weight(`${layer}/kernel`);
    const cout = shape[1] / 4;
    initializers.push(floatTensor(`${layer}/W`, [shape[0], cout, 2, 2], pixelShuffleToConvTranspose(data, shape[0], cout)));
    initializers.push(floatTensor(`${layer}/B`, [cout], weight(`${layer}/bias`).data));
    nodes.push(node('ConvTranspose', layer, [x, `${layer}/W`, `${layer}/B`], [layer], { kernel_shape: [2, 2], strides: [2, 2] }));
    return layer;
  };

  const crop = (x: string, level: number, margin: number): string => {
    if (margin === 0) return x;
    const out = `up${level}/crop`;
    initializers.push(int64Tensor(`${out}/starts`, [margin, margin]), int64Tensor(`${out}/ends`, [-margin, -margin]), int64Tensor(`${out}/axes`, [2, 3]));
    nodes.push(node('Slice', out, [x, `${out}/starts`, `${out}/ends`, `${out}/axes`], [out]));
    return out;
  };

  const margins = cropMargins(config);
  const skips: string[] = [];
  let t = INPUT_NAME;
  for (let level = 0; level < config.depth; level++) {
    t = conv(conv(t, `down${level}/conv1`), `down${level}/conv2`);
    skips.push(t);
    nodes.push(node('MaxPool', `down${level}/pool`, [t], [`down${level}/pool`], { kernel_shape: [2, 2], strides: [2, 2] }));
    t = `down${level}/pool`;
  }
  t = conv(conv(t, `down${config.depth}/conv1`), `down${config.depth}/conv2`);
  for (let level = config.depth - 1; level >= 0; level--) {
    const up = upConv(t, level);
    nodes.push(node('Concat', `up${level}/concat`, [crop(skips[level], level, margins[level]), up], [`up${level}/concat`], { axis: 1 }));
    t = conv(conv(`up${level}/concat`, `up${level}/conv1`), `up${level}/conv2`);
  }
  const logits = conv(t, 'head', false);
  nodes.push(node('Softmax', 'softmax', [logits], [OUTPUT_NAME], { axis: 1 }));

  const graph: Graph = {
    name,
    nodes,
    initializers,
    inputs: [floatValueInfo(INPUT_NAME, ['batch', config.inputChannels, 'height', 'width'])],
    outputs: [floatValueInfo(OUTPUT_NAME, ['batch', config.classes, 'outHeight', 'outWidth'])],
  };
  return model(graph, { name: 'unetflow', version: 'unet-onnx-1' }).finish();
}

/**
 * px cut from each side of level l's skip before it meets the up-convolution, found
 * by following the smallest valid tile through the network (constant: see above).
 */
export function cropMargins(config: UNetConfig): number[] {
  const loss = config.padding === 'valid' ? 4 : 0;
  let n = smallestInput(config);
  const skips: number[] = [];
  for (let level = 0; level < config.depth; level++) {
    n -= loss;
    skips.push(n);
    n /= 2;
  }
  n -= loss;
  const margins: number[] = [];
  for (let level = config.depth - 1; level >= 0; level--) {
    n *= 2;
    margins[level] = (skips[level] - n) / 2;
    n -= loss;
  }
  return margins;
}

function smallestInput(config: UNetConfig): number {
  for (let max = 2 ** config.depth; ; max *= 2) {
    const sizes = validSizes(config, max);
    if (sizes.length) return sizes[0].input;
  }
}

/** tfjs conv kernel [k, k, cin, cout] -> ONNX [cout, cin, k, k]. */
function hwioToOihw(data: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = data[((y * kw + x) * cin + i) * cout + o];
  return out;
}

/**
 * unet.ts's up-convolution matrix [cin, 4 cout], whose column (dy * 2 + dx) * cout + co
 * feeds output pixel (2h + dy, 2w + dx) channel co, as a ConvTranspose kernel
 * [cin, cout, 2, 2] (stride 2).
 */
function pixelShuffleToConvTranspose(data: Float32Array, cin: number, cout: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < cin; i++)
    for (let o = 0; o < cout; o++)
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++) out[((i * cout + o) * 2 + dy) * 2 + dx] = data[i * 4 * cout + (dy * 2 + dx) * cout + o];
  return out;
}
