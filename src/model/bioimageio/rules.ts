/**
 * The rules of a bioimage.io model description that its JSON schema cannot express
 * (bioimageio.spec checks them in Python): one root weights entry and parents that
 * exist, unique tensor and axis ids, size references that name an existing axis, a
 * halo that leaves some output, test tensors whose shapes fit the axes, and files
 * that match their sha256. Each broken rule is one message.
 */
import { readNpy } from '../../io/npy.js';
import { describedFiles, sha256, type Package } from './package.js';
import { axisId, tensorId, weightFormats, type Axis, type Rdf, type Tensor } from './rdf.js';

export function brokenRules(pkg: Package): string[] {
  const { rdf } = pkg;
  const problems: string[] = [];
  weightsRules(rdf, problems);
  const tensors = [...rdf.inputs.map((t) => ({ t, id: tensorId(t, 'input'), kind: 'inputs' })), ...rdf.outputs.map((t) => ({ t, id: tensorId(t, 'output'), kind: 'outputs' }))];
  const ids = tensors.map((x) => x.id);
  for (const id of new Set(ids)) if (ids.filter((i) => i === id).length > 1) problems.push(`tensor id '${id}' is used more than once`);
  const axisOf = (tensor: string, axis: string) => tensors.find((x) => x.id === tensor)?.t.axes.find((a) => axisId(a) === axis);

  for (const { t, id, kind } of tensors) {
    const axisIds = t.axes.map(axisId);
    for (const a of new Set(axisIds)) if (axisIds.filter((i) => i === a).length > 1) problems.push(`${kind} '${id}': axis id '${a}' is used more than once`);
    for (const axis of t.axes) {
      const size = axis.size;
      if (size && typeof size === 'object' && 'tensor_id' in size) {
        const target = axisOf(size.tensor_id, size.axis_id);
        if (!target) problems.push(`${kind} '${id}'.${axisId(axis)}: its size refers to ${size.tensor_id}.${size.axis_id}, which does not exist`);
        else if (target.type === 'batch' || target.type === 'channel') problems.push(`${kind} '${id}'.${axisId(axis)}: its size refers to a ${target.type} axis`);
      }
      if (axis.halo !== undefined && kind === 'outputs') {
        const smallest = smallestSize(axis, axisOf);
        if (smallest !== undefined && smallest - 2 * axis.halo < 1) problems.push(`${kind} '${id}'.${axisId(axis)}: halo ${axis.halo} leaves nothing of the smallest output (${smallest} px)`);
      }
    }
  }

  const shapes = new Map<string, readonly number[]>();
  for (const { t, id, kind } of tensors) {
    if (!t.test_tensor) continue;
    if (!pkg.has(t.test_tensor.source)) {
      problems.push(`${kind} '${id}': test tensor ${t.test_tensor.source} is not in the package`);
      continue;
    }
    shapes.set(id, readNpy(pkg.read(t.test_tensor.source), t.test_tensor.source).shape);
  }
  for (const { t, id, kind } of tensors) {
    const shape = shapes.get(id);
    if (shape) shapeRules(t, id, kind, shape, shapes, tensors, problems);
  }
  checksumRules(pkg, problems);
  return problems;
}

function weightsRules(rdf: Rdf, problems: string[]): void {
  const formats = weightFormats.filter((f) => rdf.weights[f]);
  if (formats.length === 0) problems.push('weights: no weights entry');
  const roots = formats.filter((f) => !rdf.weights[f]!.parent);
  if (formats.length && roots.length !== 1) problems.push(`weights: exactly one entry must have no parent, found ${roots.length} (${roots.join(', ') || 'none'})`);
  for (const f of formats) {
    const parent = rdf.weights[f]!.parent;
    if (parent === undefined) continue;
    if (parent === f) problems.push(`weights.${f}: is its own parent`);
    else if (!rdf.weights[parent as (typeof weightFormats)[number]]) problems.push(`weights.${f}: its parent '${parent}' is not an entry`);
    else if (rdf.weights[parent as (typeof weightFormats)[number]]!.parent) problems.push(`weights.${f}: its parent '${parent}' has a parent itself`);
  }
}

/** The smallest size an output axis can have (its reference's minimum plus offset), when known. */
function smallestSize(axis: Axis, axisOf: (t: string, a: string) => Axis | undefined): number | undefined {
  const size = axis.size;
  if (typeof size === 'number') return size;
  if (size && 'tensor_id' in size) {
    const ref = axisOf(size.tensor_id, size.axis_id)?.size;
    const min = typeof ref === 'number' ? ref : ref && 'min' in ref && 'step' in ref ? ref.min : undefined;
    return min === undefined ? undefined : min + (size.offset ?? 0);
  }
  return undefined;
}

function shapeRules(
  t: Tensor,
  id: string,
  kind: string,
  shape: readonly number[],
  shapes: ReadonlyMap<string, readonly number[]>,
  tensors: readonly { t: Tensor; id: string }[],
  problems: string[],
): void {
  const where = `${kind} '${id}': test tensor ${t.test_tensor!.source} [${shape}]`;
  if (shape.length !== t.axes.length) return void problems.push(`${where} has ${shape.length} dimensions, the tensor ${t.axes.length} axes`);
  t.axes.forEach((axis, d) => {
    const n = shape[d];
    const size = axis.size;
    const bad = (want: string) => problems.push(`${where}: axis ${axisId(axis)} is ${n}, expected ${want}`);
    if (axis.type === 'channel' && axis.channel_names && n !== axis.channel_names.length) bad(`${axis.channel_names.length} (its channel names)`);
    else if (axis.type === 'batch') {
      if (size === 1 && n !== 1) bad('1');
    } else if (typeof size === 'number') {
      if (n !== size) bad(`${size}`);
    } else if (size && 'tensor_id' in size) {
      const other = tensors.find((x) => x.id === size.tensor_id);
      const d2 = other?.t.axes.findIndex((a) => axisId(a) === size.axis_id) ?? -1;
      const refShape = shapes.get(size.tensor_id);
      if (other && refShape && d2 >= 0) {
        const want = Math.round((refShape[d2] * (other.t.axes[d2].scale ?? 1)) / (axis.scale ?? 1)) + (size.offset ?? 0);
        if (n !== want) bad(`${want} (${size.tensor_id}.${size.axis_id} ${refShape[d2]} ${(size.offset ?? 0) < 0 ? '-' : '+'} ${Math.abs(size.offset ?? 0)})`);
      }
    } else if (size && 'step' in size && 'min' in size) {
      if (n < size.min || (size.step > 0 ? (n - size.min) % size.step !== 0 : n !== size.min)) bad(`${size.min} + n * ${size.step}`);
    }
  });
}

function checksumRules(pkg: Package, problems: string[]): void {
  for (const f of describedFiles(pkg.rdf)) {
    if (!pkg.has(f.source)) continue; // a URL, or a file of a weights format this copy leaves out: check-model says so
    const actual = sha256(pkg.read(f.source));
    if (actual !== f.sha256) problems.push(`${f.path}: ${f.source} has sha256 ${actual}, the description says ${f.sha256}`);
  }
}
