/**
 * bioimage.io's pre- and postprocessing operations over named-axis float32 tensors,
 * with the formulas of bioimageio.core (eps 1e-6 where it adds one, numpy's linear
 * percentiles, population standard deviation).
 *
 * Operations that need statistics (means, percentiles) take them from a reference
 * tensor and are then applied to any tensor with the same kept axes: a whole image's
 * statistics are computed once and applied to each of its tiles, so tiling does not
 * change what the model sees. A reference of extent 1 along a kept axis (batch)
 * broadcasts.
 */
import { quantile } from '../../image/convert.js';
import type { Processing } from './rdf.js';

export interface NamedTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  /** Axis ids, one per dimension (`batch`, `channel`, `y`, `x`). */
  readonly axes: readonly string[];
}

export type Transform = (x: NamedTensor) => NamedTensor;

/** The operations unetflow runs, by id. */
export const processingIds = [
  'ensure_dtype', 'scale_range', 'zero_mean_unit_variance', 'fixed_zero_mean_unit_variance',
  'scale_linear', 'clip', 'sigmoid', 'softmax', 'binarize',
] as const;

/**
 * The transform of `ops` in order, with the statistics of each taken from `reference`
 * as the operations before it left it (bioimageio.core's order of evaluation).
 * @param where names the package and tensor in errors
 */
export function prepareProcessing(ops: readonly Processing[], reference: NamedTensor, where: string): Transform {
  const bound: Transform[] = [];
  let ref = reference;
  ops.forEach((op, i) => {
    const f = bind(op, ref, `${where}[${i}] ${op.id}`);
    bound.push(f);
    if (ops.slice(i + 1).some(needsStatistics)) ref = f(ref);
  });
  return (x) => bound.reduce((t, f) => f(t), x);
}

/** Runs `ops` on `x`, its statistics from `x` itself (a whole sample, or one output tile). */
export function applyProcessing(ops: readonly Processing[], x: NamedTensor, where: string): NamedTensor {
  return prepareProcessing(ops, x, where)(x);
}

function needsStatistics(op: Processing): boolean {
  const k = op.kwargs ?? {};
  return op.id === 'scale_range' || op.id === 'zero_mean_unit_variance' || (op.id === 'clip' && (k.min_percentile != null || k.max_percentile != null));
}

function bind(op: Processing, ref: NamedTensor, where: string): Transform {
  const k = (op.kwargs ?? {}) as Record<string, unknown>;
  const num = (key: string, fallback?: number): number => {
    const v = k[key] ?? fallback;
    if (typeof v !== 'number') throw new Error(`${where}: kwargs.${key} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  switch (op.id) {
    case 'ensure_dtype':
      return ensureDtype(String(k.dtype), where);
    case 'sigmoid':
      return pointwise((v) => 1 / (1 + Math.exp(-v)));
    case 'scale_linear': {
      const [gain, offset] = [alongAxis(k.gain ?? 1, k.axis, where), alongAxis(k.offset ?? 0, k.axis, where)];
      return (x) => map(x, k.axis as string | undefined, where, (v, j) => v * gain(j) + offset(j));
    }
    case 'fixed_zero_mean_unit_variance': {
      const [mean, std] = [alongAxis(k.mean, k.axis, where), alongAxis(k.std, k.axis, where)];
      return (x) => map(x, k.axis as string | undefined, where, (v, j) => (v - mean(j)) / (std(j) + 1e-6));
    }
    case 'binarize': {
      const threshold = alongAxis(k.threshold, k.axis, where);
      return (x) => map(x, k.axis as string | undefined, where, (v, j) => (v > threshold(j) ? 1 : 0));
    }
    case 'zero_mean_unit_variance': {
      const eps = num('eps', 1e-6);
      const stats = groupStats(ref, reduced(k.axes, ref, where), (values) => {
        let sum = 0;
        for (const v of values) sum += v;
        const mean = sum / values.length;
        let sq = 0;
        for (const v of values) sq += (v - mean) ** 2;
        return [mean, Math.sqrt(sq / values.length)];
      });
      return (x) => stats.apply(x, where, (v, [mean, std]) => (v - mean) / (std + eps));
    }
    case 'scale_range': {
      const [lo, hi, eps] = [num('min_percentile', 0), num('max_percentile', 100), num('eps', 1e-6)];
      if (k.reference_tensor != null) throw new Error(`${where}: reference_tensor is not supported (statistics of another tensor)`);
      if (!(lo >= 0 && hi <= 100 && lo < hi)) throw new Error(`${where}: needs 0 <= min_percentile < max_percentile <= 100, got ${lo} and ${hi}`);
      const stats = groupStats(ref, reduced(k.axes, ref, where), (values) => percentiles(values, lo, hi));
      return (x) => stats.apply(x, where, (v, [a, b]) => (v - a) / (b - a + eps));
    }
    case 'clip': {
      const min = k.min_percentile != null ? undefined : ((k.min as number | null | undefined) ?? -Infinity);
      const max = k.max_percentile != null ? undefined : ((k.max as number | null | undefined) ?? Infinity);
      if (min !== undefined && max !== undefined) return pointwise((v) => Math.min(Math.max(v, min), max)); // fixed bounds: no statistics to gather
      const stats = groupStats(ref, reduced(k.axes, ref, where), (values) =>
        percentiles(values, (k.min_percentile as number | undefined) ?? 0, (k.max_percentile as number | undefined) ?? 100),
      );
      return (x) => stats.apply(x, where, (v, [a, b]) => Math.min(Math.max(v, min ?? a), max ?? b));
    }
    case 'softmax': {
      const axis = (k.axis as string | undefined) ?? 'channel';
      return (x) => softmax(x, axis, where);
    }
    default:
      throw new Error(`${where}: unetflow does not run the operation '${op.id}'; it runs ${processingIds.join(', ')}`);
  }
}

function ensureDtype(dtype: string, where: string): Transform {
  const ranges: Record<string, [number, number]> = {
    uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767], uint32: [0, 2 ** 32 - 1], int32: [-(2 ** 31), 2 ** 31 - 1],
  };
  if (dtype === 'float32' || dtype === 'float64') return (x) => x;
  if (dtype === 'bool') return pointwise((v) => (v ? 1 : 0));
  const range = ranges[dtype];
  if (!range) throw new Error(`${where}: dtype '${dtype}' is not one unetflow converts to; it converts to float32, float64, bool and ${Object.keys(ranges).join(', ')}`);
  // numpy's astype truncates towards zero; values outside the type's range are clamped here rather than wrapped.
  return pointwise((v) => Math.min(Math.max(Math.trunc(v), range[0]), range[1]));
}

function pointwise(f: (v: number) => number): Transform {
  return (x) => ({ ...x, data: x.data.map(f) });
}

/** A scalar, or one value per index of `axis`. */
function alongAxis(value: unknown, axis: unknown, where: string): (j: number) => number {
  if (typeof value === 'number') return () => value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'number') && typeof axis === 'string') {
    return (j) => {
      if (j >= value.length) throw new Error(`${where}: ${value.length} values along '${axis}', the tensor has more`);
      return value[j];
    };
  }
  throw new Error(`${where}: expected a number, or a list of numbers with an axis, got ${JSON.stringify(value)}`);
}

/** `f(value, index along axis)` for every element (index 0 without an axis). */
function map(x: NamedTensor, axis: string | undefined, where: string, f: (v: number, j: number) => number): NamedTensor {
  if (axis === undefined) return { ...x, data: x.data.map((v) => f(v, 0)) };
  const d = x.axes.indexOf(axis);
  if (d < 0) throw new Error(`${where}: axis '${axis}' is not one of the tensor's [${x.axes.join(', ')}]`);
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const extent = x.shape[d];
  return { ...x, data: x.data.map((v, i) => f(v, Math.floor(i / inner) % extent)) };
}

function reduced(axes: unknown, x: NamedTensor, where: string): string[] {
  if (axes == null) return [...x.axes]; // the spec's default: all axes jointly
  if (!Array.isArray(axes) || !axes.every((a) => typeof a === 'string')) throw new Error(`${where}: kwargs.axes must be a list of axis ids, got ${JSON.stringify(axes)}`);
  return axes.filter((a) => x.axes.includes(a) || a !== 'batch'); // a missing batch axis reduces nothing
}

/** Values grouped by their indices along the kept (not reduced) axes, one statistic per group. */
function groupStats(ref: NamedTensor, reduce: string[], stat: (values: Float32Array) => number[]) {
  for (const a of reduce) if (!ref.axes.includes(a)) throw new Error(`axis '${a}' is not one of the tensor's [${ref.axes.join(', ')}]`);
  const kept = ref.axes.map((a, d) => (reduce.includes(a) ? -1 : d)).filter((d) => d >= 0);
  const extents = kept.map((d) => ref.shape[d]);
  const groups = extents.reduce((a, b) => a * b, 1);
  const keys = groupKeys(ref, kept, extents);
  const counts = new Int32Array(groups);
  for (const key of keys) counts[key]++;
  const values = Array.from(counts, (n) => new Float32Array(n));
  counts.fill(0);
  keys.forEach((key, i) => (values[key][counts[key]++] = ref.data[i]));
  const stats = values.map(stat);
  const keptAxes = kept.map((d) => ref.axes[d]);
  return {
    apply(x: NamedTensor, where: string, f: (v: number, s: number[]) => number): NamedTensor {
      const dims = keptAxes.map((a, i) => {
        const d = x.axes.indexOf(a);
        if (d < 0 || (extents[i] !== 1 && x.shape[d] !== extents[i])) {
          throw new Error(`${where}: statistics per '${a}' (${extents[i]}) do not fit a tensor of shape [${x.shape}] along [${x.axes}]${a === 'y' || a === 'x' ? ': statistics that keep a spatial axis cannot be applied to tiles' : ''}`);
        }
        return d;
      });
      const xKeys = groupKeys(x, dims, extents);
      return { ...x, data: x.data.map((v, i) => f(v, stats[xKeys[i]])) };
    },
  };
}

/** Each element's group: its indices along `dims` (broadcast where the group extent is 1), row-major over `extents`. */
function groupKeys(x: NamedTensor, dims: number[], extents: number[]): Int32Array {
  const n = x.data.length;
  const keys = new Int32Array(n);
  if (dims.length === 0) return keys;
  const strides = x.shape.map((_, d) => x.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  for (let i = 0; i < n; i++) {
    let key = 0;
    for (let j = 0; j < dims.length; j++) {
      const index = extents[j] === 1 ? 0 : Math.floor(i / strides[dims[j]]) % x.shape[dims[j]];
      key = key * extents[j] + index;
    }
    keys[i] = key;
  }
  return keys;
}

function percentiles(values: Float32Array, lo: number, hi: number): number[] {
  const sorted = Float64Array.from(values).sort();
  return [quantile(sorted, lo / 100), quantile(sorted, hi / 100)];
}

function softmax(x: NamedTensor, axis: string, where: string): NamedTensor {
  const d = x.axes.indexOf(axis);
  if (d < 0) throw new Error(`${where}: axis '${axis}' is not one of the tensor's [${x.axes.join(', ')}]`);
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const extent = x.shape[d];
  const out = new Float32Array(x.data.length);
  for (let outer = 0; outer < x.data.length / (inner * extent); outer++) {
    for (let i = 0; i < inner; i++) {
      const at = (c: number) => (outer * extent + c) * inner + i;
      let max = -Infinity;
      for (let c = 0; c < extent; c++) max = Math.max(max, x.data[at(c)]);
      let sum = 0;
      for (let c = 0; c < extent; c++) sum += Math.exp(x.data[at(c)] - max);
      for (let c = 0; c < extent; c++) out[at(c)] = Math.exp(x.data[at(c)] - max) / sum;
    }
  }
  return { ...x, data: out };
}
