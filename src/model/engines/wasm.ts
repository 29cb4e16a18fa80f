/**
 * tfjs's WebAssembly backend (XNNPACK kernels), always installed: one thread per engine
 * in Node, so replicas in worker threads use every core, and a heap of at most 4 GiB
 * per engine, which bounds what one inference chunk may hold.
 *
 * It lacks what training needs, so convolution gradient kernels are registered here,
 * built from kernels it has:
 *
 * - `Conv2DBackpropFilter` is missing from tfjs-backend-wasm 4.22, so no network with
 *   a convolution can train there. Here it is one matrix product per filter tap
 *   (see `conv2dBackpropFilter`).
 * - Its `Conv2DBackpropInput` is a scalar loop (~9x slower than the equivalent
 *   conv2d). For stride 1 the input gradient is a convolution of the padded output gradient with the kernel rotated by 180° and its in/out channels
 *   swapped; other cases keep the native kernel.
 *
 * Kernels receive the engine's tensors and may run ops: the engine stops recording
 * gradients inside a kernel, and each function's intermediates live in a tf.tidy.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { TfjsEngine } from './engine.js';
import { setTfjsBackend } from './tfjs.js';

/** The most a wasm engine's heap can grow to (emscripten's limit in tfjs-backend-wasm: 4 GiB - 64 KiB). */
export const WASM_HEAP_BYTES = 4294901760;

export const wasm: TfjsEngine = {
  name: 'wasm',
  backendName: 'wasm',
  package: '@tensorflow/tfjs-backend-wasm',
  gpu: false,
  replicas: true,
  defaultThreads: () => availableParallelism(),
  /**
   * Each engine has its own heap of at most 4 GiB, which never shrinks. It also holds
   * the weights twice (tfjs's copy and XNNPACK's packed one) and XNNPACK's indirection
   * buffers (36 bytes per output pixel of every 3x3 convolution: ~45 MiB at 572 px), and
   * it fragments: measured at 572 px (16 and 64 filters, 1 to 4 tiles a chunk), the heap
   * grew by 1.3 to 1.4 bytes per byte of peak-bytes.ts's estimate, on top of ~60 MiB
   * plus the weights twice. So a chunk gets what is left of three quarters of the heap
   * once the weights are counted twice, divided by 1.5: ~2 GiB for the 16-filter
   * network, ~1.85 GiB for the paper's 64 filters, for a heap that then peaks near 3 GiB.
   */
  ownBudget: (weightBytes) => (0.75 * WASM_HEAP_BYTES - 2 * weightBytes) / 1.5,
  load: async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmKernels();
    await setTfjsBackend('wasm');
    return {};
  },
};

const BACKEND = 'wasm';
let registered = false;

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function nhwcOnly(kernel: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat !== 'NHWC') throw new Error(`${kernel} (unetflow wasm kernel): only NHWC data is supported, got ${attrs.dataFormat}`);
}

/**
 * dW [fh, fw, cin, cout] from x [n, h, w, cin] and dy [n, oh, ow, cout].
 *
 * One plain matrix product per filter tap, dW[kh, kw] = patch(x, kh, kw)ᵀ · dy, with
 * x transposed once to channels-first (the wasm BatchMatMul is ~10x slower when asked
 * to transpose an operand itself). For stride 1 the patches need no 4-D gather: with
 * dy zero-padded to x's height and width, the patch of tap (kh, kw) is the column
 * range of the flattened xᵀ starting at kh·w + kw — the columns that do not belong to
 * the patch meet zeros in dy. Measured at 570x570x16: 3.5x faster than 4-D patch slices
 * with a transposed product.
 */
export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], attrs: ConvAttrs): tf.Tensor4D {
  nhwcOnly('Conv2DBackpropFilter', attrs);
  const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { top, bottom, left, right } = info.padInfo;
  const [fh, fw, cin, cout] = filterShape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  return tf.tidy(() => {
    const xp = top || bottom || left || right ? tf.pad(x, [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]]) : x;
    const [n, h, w] = xp.shape;
    const taps: tf.Tensor[] = [];
    if (sh === 1 && sw === 1 && h >= oh + fh - 1 && w >= ow + fw - 1) {
      const rows = n * h * w - (fh - 1) * w - (fw - 1);
      const dyFull = tf.pad(dy, [[0, 0], [0, h - oh], [0, w - ow], [0, 0]]);
      const dyRows = tf.slice(tf.reshape(dyFull, [n * h * w, cout]), [0, 0], [rows, cout]) as tf.Tensor2D;
      const xT = tf.transpose(tf.reshape(xp, [n * h * w, cin])) as tf.Tensor2D;
      for (let kh = 0; kh < fh; kh++) {
        for (let kw = 0; kw < fw; kw++) {
          taps.push(tf.tidy(() => tf.matMul(tf.slice(xT, [0, kh * w + kw], [cin, rows]) as tf.Tensor2D, dyRows)));
        }
      }
    } else {
      const dyRows = tf.reshape(dy, [n * oh * ow, cout]) as tf.Tensor2D;
      for (let kh = 0; kh < fh; kh++) {
        for (let kw = 0; kw < fw; kw++) {
          // One tap at a time, so that only one input-sized patch exists at once.
          taps.push(
            tf.tidy(() => {
              const patch = tf.stridedSlice(xp, [0, kh, kw, 0], [n, kh + (oh - 1) * sh + 1, kw + (ow - 1) * sw + 1, cin], [1, sh, sw, 1]);
              return tf.matMul(tf.transpose(tf.reshape(patch, [n * oh * ow, cin])) as tf.Tensor2D, dyRows);
            }),
          );
        }
      }
    }
    return tf.reshape(tf.stack(taps), filterShape) as tf.Tensor4D;
  });
}

/** dx [n, h, w, cin] for a stride-1 convolution, as a conv2d; undefined where it does not apply. */
export function conv2dBackpropInputStride1(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  attrs: ConvAttrs,
): tf.Tensor4D | undefined {
  if (attrs.dataFormat !== 'NHWC') return undefined;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return undefined;
  const [fh, fw] = filter.shape;
  const pt = fh - 1 - info.padInfo.top;
  const pl = fw - 1 - info.padInfo.left;
  const pb = inputShape[1] - info.outHeight - pt + fh - 1;
  const pr = inputShape[2] - info.outWidth - pl + fw - 1;
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0) return undefined;
  return tf.tidy(() => {
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const padded = tf.pad(dy, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
    return tf.conv2d(padded, rotated, 1, 'valid');
  });
}

/**
 * BatchMatMul with its operands transposed first where asked: the native kernel falls
 * back to a scalar loop for transposed operands (~10x slower than transposing and
 * multiplying). Matters for the gradients of every matrix product (the up-convolution).
 */
function registerPlainMatMul(): void {
  const native = tf.getKernel('BatchMatMul', BACKEND);
  if (!native) return;
  tf.unregisterKernel('BatchMatMul', BACKEND);
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: BACKEND,
    setupFunc: native.setupFunc,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as unknown as { a: tf.Tensor; b: tf.Tensor };
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return native.kernelFunc(args);
      const swap = (t: tf.Tensor) => tf.transpose(t, [...t.shape.keys()].map((i, _, all) => (i < all.length - 2 ? i : 2 * all.length - 3 - i)));
      const plain = { a: transposeA ? swap(a) : a, b: transposeB ? swap(b) : b };
      try {
        return native.kernelFunc({ ...args, inputs: plain as never, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
      } finally {
        if (transposeA) plain.a.dispose();
        if (transposeB) plain.b.dispose();
      }
    },
  });
}

/** Registers the kernels for the wasm backend (once per process; the kernel registry is global to tfjs). */
function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  registerPlainMatMul();
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: BACKEND,
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as unknown as { x: tf.Tensor4D; dy: tf.Tensor4D };
      const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
      return conv2dBackpropFilter(x, dy, a.filterShape, a) as unknown as tf.TensorInfo;
    },
  });
  const native = tf.getKernel('Conv2DBackpropInput', BACKEND);
  if (native) tf.unregisterKernel('Conv2DBackpropInput', BACKEND);
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: BACKEND,
    // The native kernel binds its wasm function when the backend initialises.
    setupFunc: native?.setupFunc,
    kernelFunc: (args) => {
      const { dy, filter } = args.inputs as unknown as { dy: tf.Tensor4D; filter: tf.Tensor4D };
      const a = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
      const fast = conv2dBackpropInputStride1(dy, filter, a.inputShape, a);
      if (fast) return fast as unknown as tf.TensorInfo;
      if (!native) throw new Error('Conv2DBackpropInput: no native wasm kernel to fall back to for this stride or layout');
      return native.kernelFunc(args);
    },
  });
}
