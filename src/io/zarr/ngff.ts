/**
 * OME-NGFF image metadata (the `multiscales` of a group's attributes: 0.4 on Zarr v2,
 * 0.5 on Zarr v3, where it sits under `ome`), read into what unetflow needs: the
 * resolution levels with their scale, and which array dimension is time, channel, z,
 * y and x. Anything it cannot map is one error saying what was expected.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { MICROMETRES } from '../pixel-size.js';
import type { PixelSize } from '../../image/pixel-size.js';

const Axis = t.intersection([t.type({ name: t.string }), t.partial({ type: t.string, unit: t.string })]);
const Transform = t.union([
  t.type({ type: t.literal('scale'), scale: t.array(t.number) }),
  t.type({ type: t.literal('translation'), translation: t.array(t.number) }),
]);
const Multiscale = t.intersection([
  t.type({ axes: t.array(Axis), datasets: t.array(t.intersection([t.type({ path: t.string }), t.partial({ coordinateTransformations: t.array(Transform) })])) }),
  t.partial({ name: t.string, version: t.string, coordinateTransformations: t.array(Transform) }),
]);
const Attributes = t.partial({ multiscales: t.array(Multiscale), ome: t.partial({ version: t.string, multiscales: t.array(Multiscale) }) });

/** The dimensions unetflow maps an array onto: y and x always, the others where the image has them. */
export type AxisName = 't' | 'c' | 'z' | 'y' | 'x';

export interface Level {
  /** The array's path within the group, e.g. `0`. */
  readonly path: string;
  /** Physical size per pixel along each array dimension, in the axes' units (1 where none is given). */
  readonly scale: readonly number[];
}

export interface Multiscales {
  readonly name?: string;
  readonly version: string;
  /** Axis names in array order, each one of t, c, z, y, x. */
  readonly axes: readonly AxisName[];
  /** Units of the axes as the file names them (NGFF takes UDUNITS-2 names, e.g. `micrometer`). */
  readonly units: readonly (string | undefined)[];
  /** Finest first, as NGFF orders them. */
  readonly levels: readonly Level[];
}

const TYPE_OF: Record<string, AxisName | undefined> = { time: 't', channel: 'c' };

/** The first multiscales image in a group's attributes; throws why it cannot be used. */
export function readMultiscales(attributes: unknown): Multiscales {
  const decoded = Attributes.decode(attributes);
  if (isLeft(decoded)) throw new Error('the group attributes are not OME-NGFF metadata: expected `multiscales` with `axes` and `datasets`');
  const version = decoded.right.ome?.version ?? decoded.right.multiscales?.[0]?.version ?? '0.4';
  const multiscale = decoded.right.ome?.multiscales?.[0] ?? decoded.right.multiscales?.[0];
  if (!multiscale) throw new Error('the group has no `multiscales` image: expected an OME-Zarr image group (OME-NGFF 0.4 or 0.5)');
  if (!['0.4', '0.5'].includes(version)) throw new Error(`OME-NGFF version ${version} is not supported: expected 0.4 or 0.5`);
  const axes = multiscale.axes.map((axis, i): AxisName => {
    const byType = axis.type === undefined ? undefined : TYPE_OF[axis.type];
    const name = byType ?? (['t', 'c', 'z', 'y', 'x'].includes(axis.name) ? (axis.name as AxisName) : undefined);
    if (!name) throw new Error(`axis ${i} ('${axis.name}', type ${axis.type ?? 'none'}) cannot be mapped: expected time, channel, or space axes z, y, x`);
    return name;
  });
  if (new Set(axes).size !== axes.length) throw new Error(`the axes ${axes.join(', ')} repeat a dimension: expected each of t, c, z, y, x at most once`);
  if (axes.at(-2) !== 'y' || axes.at(-1) !== 'x') throw new Error(`the axes end ${axes.slice(-2).join(', ')}: expected y, x last`);
  if (multiscale.datasets.length === 0) throw new Error('the multiscales image has no datasets: expected at least one resolution level');
  const global = scaleOf(multiscale.coordinateTransformations, axes.length);
  const levels = multiscale.datasets.map(({ path, coordinateTransformations }) => {
    const own = scaleOf(coordinateTransformations, axes.length);
    return { path, scale: own.map((s, i) => s * global[i]) };
  });
  return { ...(multiscale.name ? { name: multiscale.name } : {}), version, axes, units: multiscale.axes.map((a) => a.unit), levels };
}

function scaleOf(transforms: readonly t.TypeOf<typeof Transform>[] | undefined, dimensions: number): number[] {
  const scale = transforms?.find((x): x is { type: 'scale'; scale: number[] } => x.type === 'scale')?.scale;
  if (!scale) return Array(dimensions).fill(1);
  if (scale.length !== dimensions) throw new Error(`a scale has ${scale.length} values for ${dimensions} axes: expected one per axis`);
  return scale;
}

/** Micrometres per pixel at `level`, where the y and x axes have a length unit; undefined where they have none. */
export function levelPixelSize(multiscales: Multiscales, level: number): PixelSize | undefined {
  const { axes, units, levels } = multiscales;
  const [y, x] = [axes.indexOf('y'), axes.indexOf('x')];
  const [uy, ux] = [units[y], units[x]];
  if (uy === undefined || ux === undefined || !Object.hasOwn(MICROMETRES, uy) || !Object.hasOwn(MICROMETRES, ux)) return undefined;
  const scale = levels[level].scale;
  return { y: scale[y] * MICROMETRES[uy], x: scale[x] * MICROMETRES[ux] };
}
