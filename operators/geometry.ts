/**
 * Tile geometry as operator parameters, shared by `mirror` and `tile` so both read
 * the same fields: `{ input: 572, output: 388 }` for a valid (unpadded) network, or
 * `{ size: 256, overlap: 64, window: gaussian }` for a same-padded one.
 */
import { NonNegativeInt, PositiveInt, oneOf } from '../src/codec/strict.js';
import { checkGeometry, type TileGeometry } from '../src/kernels/tiling.js';

export const geometryProps = {
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
  input?: number;
  output?: number;
  size?: number;
  overlap?: number;
  window?: 'uniform' | 'gaussian';
}

/** The geometry the parameters describe, undefined when they name none; throws on a mix. */
export function geometryFrom(p: GeometryParams): TileGeometry | undefined {
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
