/**
 * A 2D package's tile geometry, read from its axes: which square input sizes it takes
 * (`min + n * step`, or one fixed size), and how much smaller its usable output is
 * (the output size's total offset, less the halo on both sides). `mirror`, `tile` and
 * `stitch` see a package as a valid (unpadded) network with that margin: a halo is
 * cropped from each output tile before stitching, as bioimage.io tools do.
 */
import type { TileGeometry } from '../../kernels/tiling.js';
import { axisId, tensorId, type Axis, type Rdf, type Tensor } from './rdf.js';

/** Square input sizes `min + n * step` (step 0: `min` only) and what a tile keeps of them. */
export interface SizeGrid {
  readonly min: number;
  readonly step: number;
  /** Output size (before the halo is cropped) = input + offset. */
  readonly offset: number;
  /** px of each output tile's border to drop before stitching. */
  readonly halo: number;
}

/** The one input and one output unetflow runs, with their spatial axes; throws saying why a package is not 2D. */
export function planarTensors(rdf: Rdf, where: string): { input: Tensor; output: Tensor } {
  if (rdf.inputs.length !== 1) throw new Error(`${where}: the model has ${rdf.inputs.length} inputs; unetflow runs models with one input image`);
  const [input] = rdf.inputs;
  const [output] = rdf.outputs;
  for (const [tensor, kind] of [[input, 'input'], [output, 'output']] as const) {
    const types = tensor.axes.map((a) => a.type);
    const other = types.filter((t) => t !== 'batch' && t !== 'channel' && t !== 'space');
    const space = tensor.axes.filter((a) => a.type === 'space').map(axisId);
    if (other.length || space.length !== 2 || !space.includes('y') || !space.includes('x')) {
      throw new Error(`${where}: ${kind} '${tensorId(tensor, kind)}' has axes [${tensor.axes.map(axisId).join(', ')}]; unetflow runs 2D models (batch, channel, y, x)`);
    }
  }
  return { input, output };
}

/** The size grid of the package's input and the offset and halo of its output, the same along y and x. */
export function sizeGrid(rdf: Rdf, where: string): SizeGrid {
  const { input, output } = planarTensors(rdf, where);
  const along = (id: 'y' | 'x') => {
    const ia = input.axes.find((a) => a.type === 'space' && axisId(a) === id)!;
    const oa = output.axes.find((a) => a.type === 'space' && axisId(a) === id)!;
    const { min, step } = inputSize(ia, id, where);
    return { min, step, ...outputOffset(oa, id, min, step, tensorId(input, 'input'), ia, where) };
  };
  const y = along('y');
  const x = along('x');
  if (y.offset !== x.offset || y.halo !== x.halo) {
    throw new Error(`${where}: the output's y and x differ (offset ${y.offset} / ${x.offset}, halo ${y.halo} / ${x.halo}); unetflow tiles with square tiles`);
  }
  const common = commonGrid(y, x);
  if (!common) throw new Error(`${where}: no square input fits both y (${show(y)}) and x (${show(x)})`);
  const g = { ...common, offset: y.offset, halo: y.halo };
  if (keep(g, g.min) < 1) throw new Error(`${where}: the smallest input, ${g.min} px, leaves no output after offset ${g.offset} and halo ${g.halo}`);
  return g;
}

/** The valid square inputs up to `max`, smallest first. */
export function validInputs(grid: SizeGrid, max: number): number[] {
  if (grid.step === 0) return grid.min <= max ? [grid.min] : [];
  const out: number[] = [];
  for (let s = grid.min; s <= max; s += grid.step) out.push(s);
  return out;
}

/** px a tile of `input` keeps once the offset and halo are taken off. */
export function keep(grid: SizeGrid, input: number): number {
  return input + grid.offset - 2 * grid.halo;
}

/**
 * The tile geometry for `mirror` and `tile`: `input` if given (it must be on the grid),
 * else the largest valid size up to 572 px (the paper's tile), else the smallest.
 */
export function gridGeometry(grid: SizeGrid, where: string, input?: number): TileGeometry {
  const sizes = validInputs(grid, Math.max(input ?? 572, grid.min));
  const size = input ?? (sizes.filter((s) => s <= 572).pop() ?? grid.min);
  if (!sizes.includes(size)) {
    const hint = grid.step === 0 ? `only ${grid.min}` : `${grid.min} + n * ${grid.step}, e.g. ${nearest(grid, size).join(' or ')}`;
    throw new RangeError(`${where}: the model cannot take a ${size} px tile; it takes ${hint}`);
  }
  const output = keep(grid, size);
  if ((size - output) % 2 !== 0) throw new RangeError(`${where}: input ${size} and output ${output} differ by an odd number of px: the output cannot be centred`);
  // Sizes on a {min, step} grid are a pooling network's (step 2^depth for a U-Net): tiles
  // that start on multiples of the step pool alike, so results do not depend on the tiling.
  return { kind: 'valid', input: size, output, ...(grid.step > 1 && output >= grid.step ? { align: grid.step } : {}) };
}

function nearest(grid: SizeGrid, size: number): number[] {
  const n = Math.max(0, Math.floor((size - grid.min) / grid.step));
  return [grid.min + n * grid.step, grid.min + (n + 1) * grid.step].filter((s, i, a) => a.indexOf(s) === i);
}

function inputSize(axis: Axis, id: string, where: string): { min: number; step: number } {
  const size = axis.size;
  if (typeof size === 'number') return { min: size, step: 0 };
  if (size && 'step' in size && 'min' in size) return { min: size.min, step: size.step };
  throw new Error(`${where}: input axis ${id} has size ${JSON.stringify(size)}; unetflow takes a fixed size or { min, step } for an input`);
}

function outputOffset(axis: Axis, id: string, min: number, step: number, inputId: string, inputAxis: Axis, where: string): { offset: number; halo: number } {
  const halo = axis.halo ?? 0;
  const size = axis.size;
  if (typeof size === 'number') {
    if (step !== 0) throw new Error(`${where}: output axis ${id} has the fixed size ${size} but the input's varies (step ${step})`);
    return { offset: size - min, halo };
  }
  if (size && 'tensor_id' in size) {
    if (size.tensor_id !== inputId || size.axis_id !== id) {
      throw new Error(`${where}: output axis ${id} refers to ${size.tensor_id}.${size.axis_id}; unetflow needs it to refer to ${inputId}.${id}`);
    }
    if ((axis.scale ?? 1) !== (inputAxis.scale ?? 1)) {
      throw new Error(`${where}: output axis ${id} has scale ${axis.scale ?? 1}, the input's ${inputAxis.scale ?? 1}; unetflow runs models whose output has the input's resolution`);
    }
    return { offset: size.offset ?? 0, halo };
  }
  throw new Error(`${where}: output axis ${id} has size ${JSON.stringify(size)}; unetflow needs a fixed size or a reference to the input`);
}

/** The sizes on both grids: fixed sizes must agree; two progressions meet on a progression with the lcm step. */
function commonGrid(a: { min: number; step: number }, b: { min: number; step: number }): { min: number; step: number } | undefined {
  const on = (g: { min: number; step: number }, s: number) => s >= g.min && (g.step === 0 ? s === g.min : (s - g.min) % g.step === 0);
  if (a.step === 0 || b.step === 0) {
    const s = a.step === 0 ? a.min : b.min;
    return on(a, s) && on(b, s) ? { min: s, step: 0 } : undefined;
  }
  const lcm = (a.step * b.step) / gcd(a.step, b.step);
  for (let s = Math.max(a.min, b.min); s < Math.max(a.min, b.min) + lcm; s++) if (on(a, s) && on(b, s)) return { min: s, step: lcm };
  return undefined;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function show(g: { min: number; step: number }): string {
  return g.step === 0 ? `${g.min}` : `${g.min} + n * ${g.step}`;
}
