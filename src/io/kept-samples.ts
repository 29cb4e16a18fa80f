/**
 * How each sample type a file holds is kept in unetflow's images (src/image/image.ts):
 * uint8, uint16 and float32 as they are, the other integer types as float32 data that
 * remembers its source type. One table for sharp's reader (read.ts), the page's TIFF
 * decoder and the OME-Zarr reader; libvips names the types its own way. No Node module.
 */
import type { DType, SourceType } from '../image/image.js';

export interface Kept {
  readonly dtype: DType;
  readonly sourceType?: SourceType;
}

const KEPT: Readonly<Record<string, Kept>> = {
  uint8: { dtype: 'uint8' },
  uint16: { dtype: 'uint16' },
  float32: { dtype: 'float32' },
  int8: { dtype: 'float32', sourceType: 'int8' },
  int16: { dtype: 'float32', sourceType: 'int16' },
  int32: { dtype: 'float32', sourceType: 'int32' },
  uint32: { dtype: 'float32', sourceType: 'uint32' },
};

const LIBVIPS: Readonly<Record<string, string>> = { uchar: 'uint8', ushort: 'uint16', float: 'float32', char: 'int8', short: 'int16', int: 'int32', uint: 'uint32' };

/** By the type's name as Zarr and numpy give it (`uint8`, `int16`, `float32`, ...); undefined for one unetflow does not keep. */
export function keptAs(type: string): Kept | undefined {
  return Object.hasOwn(KEPT, type) ? KEPT[type] : undefined;
}

/** By libvips's name for the sample depth (`uchar`, `short`, `float`, ...). */
export function keptAsLibvips(depth: string): Kept | undefined {
  return Object.hasOwn(LIBVIPS, depth) ? keptAs(LIBVIPS[depth]) : undefined;
}
