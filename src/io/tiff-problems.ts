/**
 * What is wrong with a TIFF that a decoder refused, read from the file's first image
 * directory: libvips reports a float64 TIFF as a "corrupt header" and a truncated one
 * as a dozen libtiff warnings, neither of which tells a user what to do. Pure, over any
 * way of reading the file's bytes, so that Node (tiff-layout.ts) and a page say the same.
 */
import { integers, readDirectoryAt, thousands, type ReadAt } from './tiff-directory.js';

const TAG = { BitsPerSample: 258, StripOffsets: 273, StripByteCounts: 279, TileOffsets: 324, TileByteCounts: 325, SampleFormat: 339 } as const;

/**
 * A one-line explanation, with what to do, of why the TIFF of `size` bytes cannot be read:
 * a sample type unetflow does not support, or a file cut short. Undefined when its
 * first directory shows neither (the caller then reports the decoder's own reason).
 */
export async function explainTiffAt(readAt: ReadAt, size: number): Promise<string | undefined> {
  const directory = await readDirectoryAt(readAt, size, Object.values(TAG));
  if (!directory) return undefined;
  if ('truncated' in directory) return truncated(directory.truncated);
  const values = directory.fields;
  const bits = integers(values, TAG.BitsPerSample)?.[0] ?? 1;
  const format = integers(values, TAG.SampleFormat)?.[0] ?? 1;
  const unsupported = sampleTypeProblem(bits, format);
  if (unsupported) return unsupported;

  const offsets = integers(values, TAG.StripOffsets) ?? integers(values, TAG.TileOffsets) ?? [];
  const counts = integers(values, TAG.StripByteCounts) ?? integers(values, TAG.TileByteCounts) ?? [];
  const end = offsets.reduce((m, o, i) => Math.max(m, o + (counts[i] ?? 0)), 0);
  if (end > size) return truncated(`the file has ${thousands(size)} bytes, its pixel data runs to byte ${thousands(end)}`);
  return undefined;
}

const truncated = (what: string) => `the TIFF is truncated: ${what} — was the copy cut short?`;

/** Sample types unetflow cannot take, with what to save instead (libvips names float64 `double`). */
export const unsupportedSamples = {
  float64: 'float64 samples are not supported: save the image as float32 (Fiji: Image > Type > 32-bit; numpy: image.astype(numpy.float32)) or as 16-bit',
  complex: 'complex samples are not supported: save their magnitude or real part as float32',
  int64: '64-bit integer samples are not supported: save the image as 16-bit, 32-bit or float32',
} as const;

/** Why samples of `bits` bits in SampleFormat `format` (1 unsigned, 2 signed, 3 float, 5/6 complex) cannot be read, or undefined. */
export function sampleTypeProblem(bits: number, format: number): string | undefined {
  if (format === 3 && bits === 64) return unsupportedSamples.float64;
  if (format === 5 || format === 6) return unsupportedSamples.complex;
  if (bits === 64) return unsupportedSamples.int64;
  return undefined;
}
