/**
 * Tile geometry as operator parameters, shared by `mirror`, `tile` and friends so all
 * read the same fields: `{ model: DIR }` (the geometry the model was made for,
 * optionally another valid `input` size), `{ input: 572, output: 388 }` for a valid
 * (unpadded) network, or `{ size: 256, overlap: 64, window: gaussian }` for a
 * same-padded one.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as t from 'io-ts';
import { NonNegativeInt, PositiveInt, oneOf } from '../src/codec/strict.js';
import { ConfigError, messageOf } from '../src/errors.js';
import { checkGeometry, type TileGeometry } from '../src/kernels/tiling.js';
import { sizeMap, type Padding } from '../src/model/geometry.js';
import { isPackage } from '../src/model/bioimageio/package.js';
import { geometryOfPackage } from '../src/model/bioimageio/runnable.js';

export const geometryProps = {
  /** A model directory whose metadata gives the geometry, or a bioimage.io package whose axes do (relative to the pipeline file). */
  model: t.string,
  /** Valid network: input tile size in px (572 in the paper). */
  input: PositiveInt,
  /** Valid network: output tile size in px (388 in the paper). */
  output: PositiveInt,
  /** Same-padded network: tile size in px. */
  size: PositiveInt,
  /** Same-padded network: overlap between neighbouring tiles in px. @default size / 4 */
  overlap: NonNegativeInt,
  /** Same-padded network: blending window. @default 'gaussian' */
  window: oneOf(['uniform', 'gaussian']),
};

export interface GeometryParams {
  model?: string;
  input?: number;
  output?: number;
  size?: number;
  overlap?: number;
  window?: 'uniform' | 'gaussian';
}

/** The geometry the parameters describe, undefined when they name none; throws on a mix. */
export function geometryFrom(p: GeometryParams, baseDir = process.cwd()): TileGeometry | undefined {
  if (p.model !== undefined) return geometryOfModelDir(resolve(baseDir, p.model), p);
  const valid = p.input !== undefined || p.output !== undefined;
  const same = p.size !== undefined || p.overlap !== undefined || p.window !== undefined;
  if (valid && same) {
    throw new RangeError('give either input and output (valid network) or size, overlap and window (same-padded), not both');
  }
  let geometry: TileGeometry | undefined;
  if (valid) {
    if (p.input === undefined || p.output === undefined) {
      throw new RangeError('a valid-network geometry needs both input and output (e.g. input: 572, output: 388)');
    }
    geometry = { kind: 'valid', input: p.input, output: p.output };
  } else if (p.size !== undefined) {
    geometry = { kind: 'same', tile: p.size, overlap: p.overlap ?? Math.floor(p.size / 4), window: p.window ?? 'gaussian' };
  } else if (same) {
    throw new RangeError('a same-padded geometry needs size (e.g. size: 256, overlap: 64)');
  }
  if (geometry) checkGeometry(geometry);
  return geometry;
}

/** The geometry an operator's parameters describe, if any; a bad one is a ConfigError naming the operator. */
export function operatorGeometry(operator: string, p: GeometryParams, baseDir?: string): TileGeometry | undefined {
  try {
    return geometryFrom(p, baseDir);
  } catch (error) {
    throw new ConfigError(`${operator}: ${messageOf(error)}`);
  }
}

/** Like operatorGeometry, for operators that cannot work without one. */
export function requireGeometry(operator: string, p: GeometryParams, baseDir?: string): TileGeometry {
  const geometry = operatorGeometry(operator, p, baseDir);
  if (!geometry) throw new ConfigError(`${operator}: needs a geometry: model, input + output (valid network), or size (same-padded)`);
  return geometry;
}

/**
 * Reads a model's geometry synchronously, so that a wrong model path is found when
 * the pipeline is checked (`unetflow validate`), not when the first image arrives.
 */
function geometryOfModelDir(dir: string, p: GeometryParams): TileGeometry {
  if (p.output !== undefined) throw new RangeError('with a model, give at most input (another tile size it accepts), not output');
  if (isPackage(dir)) return geometryOfPackage(dir, p.input); // a bioimage.io package: from its axes
  const path = join(dir, 'metadata.json');
  let meta: { architecture?: { depth?: number; padding?: Padding }; tile?: { input?: number }; overlap?: number };
  try {
    meta = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RangeError(`cannot read the model's geometry from ${path}: ${code === 'ENOENT' ? 'file not found (is this a model directory?)' : messageOf(error)}`);
  }
  const depth = meta.architecture?.depth ?? 4;
  const padding = meta.architecture?.padding ?? 'valid';
  const input = p.input ?? meta.tile?.input;
  if (typeof input !== 'number') throw new RangeError(`${path} names no tile size (tile.input)`);
  const size = sizeMap(input, { depth, padding }); // throws naming the nearest valid sizes
  if (padding === 'valid') return { kind: 'valid', input: size.input, output: size.output };
  const overlap = p.overlap ?? meta.overlap ?? Math.floor(size.input / 4);
  return { kind: 'same', tile: size.input, overlap, window: p.window ?? 'gaussian' };
}
