/**
 * Tile geometry as operator parameters, shared by `mirror`, `tile` and friends so all
 * read the same fields: `{ model: DIR }` (for `mirror` and `tile`: tile sizes chosen
 * per image, `size: auto`; for `random-tiles`: the size the model was trained on),
 * `{ model: DIR, input: 572 }` (a fixed valid size), `{ input: 572, output: 388 }` for
 * a valid (unpadded) network, or `{ size: 256, overlap: 64, window: gaussian }` for a
 * same-padded one.
 */
import { join, resolve } from 'node:path';
import * as t from 'io-ts';
import { NonNegativeInt, PositiveInt, oneOf } from '../src/codec/building-blocks.js';
import { ConfigError, messageOf } from '../src/errors.js';
import { checkGeometry, type TileGeometry } from '../src/kernels/tiling.js';
import { isPackage } from '../src/model/bioimageio/package.js';
import { geometryOfPackage } from '../src/model/bioimageio/runnable.js';
import { parameterCount, type NetworkLayers } from '../src/model/network/flops.js';
import { poolingScale, sizeMap, type Padding } from '../src/model/network/geometry.js';
import type { ModelCatalog } from '../src/host/model-files.js';
import { nodeModelCatalog } from '../src/host/node/model-catalog.js';
import type { TilePlan } from '../src/model/network/tile-size.js';

export const geometryProps = {
  /** A model directory whose metadata gives the geometry, or a bioimage.io package whose axes do (relative to the pipeline file). */
  model: t.string,
  /** Valid network: input tile size in px (572 in the paper). */
  input: PositiveInt,
  /** Valid network: output tile size in px (388 in the paper). */
  output: PositiveInt,
  /**
   * Same-padded network: tile size in px. With a model, `auto` (the default for
   * `mirror` and `tile`) chooses each image's tile size: the fewest FLOPs within the
   * backend's memory budget.
   */
  size: t.union([PositiveInt, t.literal('auto')]),
  /** Same-padded network: overlap between neighbouring tiles in px. @default size / 4 */
  overlap: NonNegativeInt,
  /** Same-padded network: blending window. @default 'gaussian' */
  window: oneOf(['uniform', 'gaussian']),
};

export interface GeometryParams {
  model?: string;
  input?: number;
  output?: number;
  size?: number | 'auto';
  overlap?: number;
  window?: 'uniform' | 'gaussian';
}

/**
 * The tiling for `mirror` and `tile`: chosen per image (`size: auto`, the default with
 * a model, under the memory budget of `backend`, the run's backend choice), or the fixed
 * geometry of geometryFrom. Undefined when the parameters name none; throws on a mix.
 */
export function planFrom(p: GeometryParams, baseDir = process.cwd(), backend = 'auto', models: ModelCatalog = nodeModelCatalog): TilePlan | undefined {
  const auto = p.size === 'auto' || (p.model !== undefined && p.input === undefined && p.size === undefined);
  if (!auto) return geometryFrom(p, baseDir, models);
  if (p.model === undefined) throw new RangeError('size: auto needs the model (model: DIR), whose layers say which sizes it takes');
  if (p.input !== undefined || p.output !== undefined) throw new RangeError('give size: auto or input (a fixed tile size), not both');
  if (isPackage(resolve(baseDir, p.model))) {
    // A bioimage.io package states its sizes on its axes, not its layers: its own tile (or input: N).
    if (p.size === 'auto') throw new RangeError('size: auto needs a unetflow model folder; a bioimage.io package takes the tile size from its axes (or input: N)');
    return geometryFrom(p, baseDir, models);
  }
  const { network, trainedInput, overlap } = modelGeometry(resolve(baseDir, p.model), models);
  const budgetBytes = models.plannedBudget(backend, 4 * parameterCount(network));
  return network.padding === 'valid'
    ? { kind: 'auto', network, budgetBytes }
    : { kind: 'auto', network, budgetBytes, overlap: p.overlap ?? overlap ?? Math.floor((trainedInput ?? 0) / 4), window: p.window ?? 'gaussian' };
}

/** The fixed geometry the parameters describe (a model's: the size it was trained on), undefined when they name none; throws on a mix. */
export function geometryFrom(p: GeometryParams, baseDir = process.cwd(), models: ModelCatalog = nodeModelCatalog): TileGeometry | undefined {
  if (p.size === 'auto') throw new RangeError('size: auto chooses tile sizes for inference (mirror, tile); this step needs a fixed size');
  if (p.model !== undefined) return geometryOfModelDir(resolve(baseDir, p.model), p, models);
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
    // Sizes a U-Net maps are tiled on its pooling grid, so that results do not depend on the tiling.
    const align = poolingScale(p.input, p.output);
    geometry = { kind: 'valid', input: p.input, output: p.output, ...(align ? { align } : {}) };
  } else if (p.size !== undefined) {
    geometry = { kind: 'same', tile: p.size, overlap: p.overlap ?? Math.floor(p.size / 4), window: p.window ?? 'gaussian' };
  } else if (same) {
    throw new RangeError('a same-padded geometry needs size (e.g. size: 256, overlap: 64)');
  }
  if (geometry) checkGeometry(geometry);
  return geometry;
}

/** The geometry an operator's parameters describe, if any; a bad one is a ConfigError naming the operator. */
export function operatorGeometry(operator: string, p: GeometryParams, baseDir?: string, models?: ModelCatalog): TileGeometry | undefined {
  return asConfigError(operator, () => geometryFrom(p, baseDir, models));
}

/** Like operatorGeometry, for operators that cannot work without one. */
export function requireGeometry(operator: string, p: GeometryParams, baseDir?: string, models?: ModelCatalog): TileGeometry {
  return required(operator, operatorGeometry(operator, p, baseDir, models));
}

/** The tiling (planFrom) an operator's parameters describe, if any; a bad one is a ConfigError naming the operator. */
export function operatorPlan(operator: string, p: GeometryParams, baseDir?: string, backend?: string, models?: ModelCatalog): TilePlan | undefined {
  return asConfigError(operator, () => planFrom(p, baseDir, backend, models));
}

/** Like operatorPlan, for operators that cannot work without one. */
export function requirePlan(operator: string, p: GeometryParams, baseDir?: string, backend?: string, models?: ModelCatalog): TilePlan {
  return required(operator, operatorPlan(operator, p, baseDir, backend, models));
}

function asConfigError<T>(operator: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    throw new ConfigError(`${operator}: ${messageOf(error)}`);
  }
}

function required<T>(operator: string, geometry: T | undefined): T {
  if (!geometry) throw new ConfigError(`${operator}: needs a geometry: model, input + output (valid network), or size (same-padded)`);
  return geometry;
}

/** What a model directory says about tiling: its layers, the tile size it was trained on and (same padding) its overlap. */
export interface ModelGeometry {
  readonly network: NetworkLayers;
  /** Input size of the training tiles, when recorded. */
  readonly trainedInput?: number;
  /** Same padding: the overlap recorded with the model, if any. */
  readonly overlap?: number;
}

/**
 * Reads a model's geometry synchronously, so that a wrong model path is found when
 * the pipeline is checked (`unetflow validate`), not when the first image arrives.
 * The one place tiling learns about a model directory.
 */
export function modelGeometry(dir: string, models: ModelCatalog = nodeModelCatalog): ModelGeometry {
  const path = join(dir, 'metadata.json');
  let meta: { architecture?: Partial<NetworkLayers> & { padding?: Padding }; tile?: { input?: number }; overlap?: number };
  try {
    meta = JSON.parse(models.metadataText(dir));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RangeError(`cannot read the model's geometry from ${path}: ${code === 'ENOENT' ? 'file not found (is this a model directory?)' : messageOf(error)}`);
  }
  const a = meta.architecture ?? {};
  const network: NetworkLayers = {
    depth: a.depth ?? 4,
    padding: a.padding ?? 'valid',
    baseFilters: a.baseFilters ?? 64,
    classes: a.classes ?? 2,
    inputChannels: a.inputChannels ?? 1,
  };
  const trainedInput = typeof meta.tile?.input === 'number' ? meta.tile.input : undefined;
  return { network, trainedInput, overlap: meta.overlap };
}

function geometryOfModelDir(dir: string, p: GeometryParams, models: ModelCatalog): TileGeometry {
  if (p.output !== undefined) throw new RangeError('with a model, give at most input (another tile size it accepts), not output');
  if (isPackage(dir)) return geometryOfPackage(dir, p.input); // a bioimage.io package: from its axes
  const { network, trainedInput, overlap } = modelGeometry(dir, models);
  const input = p.input ?? (typeof p.size === 'number' ? p.size : trainedInput);
  if (input === undefined) throw new RangeError(`${join(dir, 'metadata.json')} names no tile size (tile.input)`);
  const size = sizeMap(input, network); // throws naming the nearest valid sizes
  if (network.padding === 'valid') return { kind: 'valid', input: size.input, output: size.output, align: 2 ** network.depth };
  return { kind: 'same', tile: size.input, overlap: p.overlap ?? overlap ?? Math.floor(size.input / 4), window: p.window ?? 'gaussian' };
}
