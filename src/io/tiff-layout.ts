/**
 * What is wrong with a TIFF that libvips refused, read from the file's first image
 * directory: libvips reports a float64 TIFF as a "corrupt header" and a truncated one
 * as a dozen libtiff warnings, neither of which tells a user what to do.
 * Classic TIFF and BigTIFF, either byte order; only the fields needed here.
 */
import { open, type FileHandle } from 'node:fs/promises';

const TAG = { BitsPerSample: 258, StripOffsets: 273, StripByteCounts: 279, TileOffsets: 324, TileByteCounts: 325, SampleFormat: 339 } as const;
// Bytes per value of the TIFF field types used for the tags above (BYTE, SHORT, LONG, LONG8).
const TYPE_BYTES: Record<number, number> = { 1: 1, 3: 2, 4: 4, 16: 8 };
const MAX_FIELD_BYTES = 64 * 1024 * 1024;

/** True when `head` starts like a TIFF (classic or BigTIFF, either byte order). */
export function looksLikeTiff(head: Uint8Array): boolean {
  const sig = String.fromCharCode(head[0], head[1]);
  if (sig !== 'II' && sig !== 'MM') return false;
  const magic = sig === 'II' ? head[2] | (head[3] << 8) : (head[2] << 8) | head[3];
  return magic === 42 || magic === 43;
}

/**
 * A one-line explanation, with what to do, of why the TIFF at `path` cannot be read:
 * a sample type unetflow does not support, or a file cut short. Undefined when its
 * first directory shows neither (the caller then reports libvips's own reason).
 */
export async function explainTiff(path: string): Promise<string | undefined> {
  const file = await open(path, 'r');
  try {
    return await explain(file, (await file.stat()).size);
  } finally {
    await file.close();
  }
}

async function explain(file: FileHandle, size: number): Promise<string | undefined> {
  const head = await readAt(file, 0, 16);
  if (head.length < 8 || !looksLikeTiff(head)) return undefined;
  const le = head[0] === 0x49;
  const big = (le ? head.readUInt16LE(2) : head.readUInt16BE(2)) === 43;
  const int = (b: Buffer, at: number, bytes: number): number => {
    if (bytes === 1) return b[at];
    if (bytes === 2) return le ? b.readUInt16LE(at) : b.readUInt16BE(at);
    if (bytes === 4) return le ? b.readUInt32LE(at) : b.readUInt32BE(at);
    return Number(le ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at));
  };
  const ifd = big ? int(head, 8, 8) : int(head, 4, 4);
  const countBytes = big ? 8 : 2;
  const entryBytes = big ? 20 : 12;
  const truncated = (what: string) => `the TIFF is truncated: ${what} — was the copy cut short?`;
  if (ifd + countBytes > size) return truncated(`its image directory starts at byte ${n(ifd)}, past the end of the file (${n(size)} bytes)`);
  const count = int(await readAt(file, ifd, countBytes), 0, countBytes);
  const table = await readAt(file, ifd + countBytes, count * entryBytes);
  if (table.length < count * entryBytes) return truncated(`its image directory runs past the end of the file (${n(size)} bytes)`);

  const values = new Map<number, number[]>();
  for (let k = 0; k < count; k++) {
    const at = k * entryBytes;
    const tag = int(table, at, 2);
    const bytes = TYPE_BYTES[int(table, at + 2, 2)];
    if (!bytes || !Object.values(TAG).includes(tag as never)) continue;
    const length = int(table, at + 4, big ? 8 : 4);
    if (length * bytes > MAX_FIELD_BYTES) return undefined; // not a directory worth explaining
    const inline = big ? 8 : 4;
    const where = at + (big ? 12 : 8);
    const data = length * bytes <= inline ? table.subarray(where, where + length * bytes) : await readAt(file, int(table, where, inline), length * bytes);
    if (data.length < length * bytes) return truncated(`its image directory points past the end of the file (${n(size)} bytes)`);
    values.set(tag, Array.from({ length }, (_, i) => int(data, i * bytes, bytes)));
  }

  const bits = values.get(TAG.BitsPerSample)?.[0] ?? 1;
  const format = values.get(TAG.SampleFormat)?.[0] ?? 1;
  const unsupported = sampleTypeProblem(bits, format);
  if (unsupported) return unsupported;

  const offsets = values.get(TAG.StripOffsets) ?? values.get(TAG.TileOffsets) ?? [];
  const counts = values.get(TAG.StripByteCounts) ?? values.get(TAG.TileByteCounts) ?? [];
  const end = offsets.reduce((m, o, i) => Math.max(m, o + (counts[i] ?? 0)), 0);
  if (end > size) return truncated(`the file has ${n(size)} bytes, its pixel data runs to byte ${n(end)}`);
  return undefined;
}

/** Sample types unetflow cannot take, with what to save instead (libvips names float64 `double`). */
export const unsupportedSamples = {
  float64: 'float64 samples are not supported: save the image as float32 (Fiji: Image > Type > 32-bit; numpy: image.astype(numpy.float32)) or as 16-bit',
  complex: 'complex samples are not supported: save their magnitude or real part as float32',
  int64: '64-bit integer samples are not supported: save the image as 16-bit, 32-bit or float32',
} as const;

function sampleTypeProblem(bits: number, format: number): string | undefined {
  if (format === 3 && bits === 64) return unsupportedSamples.float64;
  if (format === 5 || format === 6) return unsupportedSamples.complex;
  if (bits === 64) return unsupportedSamples.int64;
  return undefined;
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}
