/**
 * A bioimage.io package's session as a predictor (engines/engine.ts), so that packages
 * go through the same batcher as native models: tiles in unetflow's layout (NHWC, each
 * already preprocessed with statistics of its whole image), through the network in the
 * package's axis order, then postprocessed one by one and cropped by the halo.
 */
import type { Predictor } from '../engines/engine.js';
import type { SizeGrid } from './axes.js';
import { cropTile, transpose } from './layout.js';
import { applyProcessing, type NamedTensor } from './processing.js';
import { axisId, tensorId } from './rdf.js';
import type { PackageSession } from './session.js';

/** Where a package's tensors put unetflow's tile axes. */
export interface PackageLayout {
  /** The input's and output's axis ids in unetflow's tile order (batch, y, x, channel). */
  readonly inputNhwc: readonly string[];
  readonly outputNhwc: readonly string[];
  /** Input channels. */
  readonly channels: number;
  /** Whether tiles can share a forward pass (a batch axis not fixed to 1). */
  readonly batched: boolean;
}

export function packageLayout(session: PackageSession): PackageLayout {
  const id = (type: string, axes: readonly { type: string }[], fallback: string) => {
    const axis = axes.find((a) => a.type === type);
    return axis ? axisId(axis as never) : fallback;
  };
  return {
    inputNhwc: [id('batch', session.input.axes, 'batch'), 'y', 'x', id('channel', session.input.axes, 'channel')],
    outputNhwc: [id('batch', session.output.axes, 'batch'), 'y', 'x', id('channel', session.output.axes, 'channel')],
    channels: session.input.axes.find((a) => a.type === 'channel')?.channel_names?.length ?? 1,
    batched: session.input.axes.some((a) => a.type === 'batch' && a.size !== 1),
  };
}

/** An NHWC tensor of `count` square tiles. */
export function nhwc(data: Float32Array, count: number, size: number, channels: number, axes: readonly string[]): NamedTensor {
  return { data, shape: [count, size, size, channels], axes };
}

/**
 * A predictor over `session` on tiles of `grid`: each tile's output is postprocessed
 * and its halo cropped (keep(grid, size) px a side remain).
 * Owns the session (close releases it).
 */
export function openPackagePredictor(session: PackageSession, grid: SizeGrid, layout: PackageLayout, threads: number): Predictor {
  const outputName = `${session.pkg.where}: ${tensorId(session.output, 'output')}.postprocessing`;
  const pass = async (images: Float32Array, count: number, size: number): Promise<Float32Array> => {
    const x = transpose(nhwc(images, count, size, layout.channels, layout.inputNhwc), session.inputAxes);
    const y = transpose(await session.run(x), layout.outputNhwc);
    const [, out, , k] = y.shape;
    const kept = out - 2 * grid.halo;
    const result = new Float32Array(count * kept * kept * k);
    for (let i = 0; i < count; i++) {
      const one = applyProcessing(session.output.postprocessing ?? [], nhwc(y.data.slice(i * out * out * k, (i + 1) * out * out * k), 1, out, k, layout.outputNhwc), outputName);
      result.set(cropTile(one.data, out, k, grid.halo), i * kept * kept * k);
    }
    return result;
  };
  return {
    description: `onnxruntime ${session.runtime}, ${threads} thread${threads === 1 ? '' : 's'}`,
    async predict(images, count, size, tta) {
      if (tta !== 'none') throw new RangeError('a bioimage.io package runs without test-time augmentation');
      if (layout.batched) return pass(images, count, size);
      const per = images.length / count;
      const parts: Float32Array[] = [];
      for (let i = 0; i < count; i++) parts.push(await pass(images.subarray(i * per, (i + 1) * per), 1, size));
      const result = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((offset, p) => (result.set(p, offset), offset + p.length), 0);
      return result;
    },
    close: () => session.release(),
  };
}
