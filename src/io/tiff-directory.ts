/**
 * Chosen fields of a TIFF's first image directory, read without decoding pixels
 * (from a file handle in Node, or from bytes in a page):
 * classic TIFF and BigTIFF, either byte order. What sharp's metadata leaves out
 * (sample format details, ImageDescription, exact resolution rationals) comes from here.
 */
import type { FileHandle } from 'node:fs/promises';

/** A field's values: integers, an ASCII string (its first NUL-terminated part, read as UTF-8), or rationals as [numerator, denominator]. */
export type TiffField = { readonly kind: 'integers'; readonly values: number[] } | { readonly kind: 'ascii'; readonly text: string } | { readonly kind: 'rationals'; readonly values: [number, number][] };

/** The fields found, or why the directory could not be read (the file is cut short). */
export type TiffDirectory = { readonly fields: Map<number, TiffField> } | { readonly truncated: string };

// Bytes per value of the field types read here: BYTE, ASCII, SHORT, LONG, RATIONAL, LONG8.
const TYPE_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 16: 8 };
const MAX_FIELD_BYTES = 64 * 1024 * 1024;

/** True when `head` starts like a TIFF (classic or BigTIFF, either byte order). */
export function looksLikeTiff(head: Uint8Array): boolean {
  const sig = String.fromCharCode(head[0], head[1]);
  if (sig !== 'II' && sig !== 'MM') return false;
  const magic = sig === 'II' ? head[2] | (head[3] << 8) : (head[2] << 8) | head[3];
  return magic === 42 || magic === 43;
}

/** Reads up to `length` bytes at `position`: fewer at the end of the file. */
export type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

/**
 * The `tags` of the first directory of the open TIFF `file` (`size` bytes). Undefined
 * when the file is no TIFF or a field is implausibly large (not a directory worth reading).
 */
export async function readFirstDirectory(file: FileHandle, size: number, tags: readonly number[]): Promise<TiffDirectory | undefined> {
  return readDirectoryAt(async (position, length) => {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await file.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  }, size, tags);
}

/** The `tags` of the first directory of a TIFF held in memory (a page's file). */
export function readFirstDirectoryOf(bytes: Uint8Array, tags: readonly number[]): Promise<TiffDirectory | undefined> {
  return readDirectoryAt(async (position, length) => bytes.subarray(position, position + length), bytes.length, tags);
}

/** readFirstDirectory over any way of reading the file's bytes. */
export async function readDirectoryAt(readAt: ReadAt, size: number, tags: readonly number[]): Promise<TiffDirectory | undefined> {
  const head = await readAt(0, 16);
  if (head.length < 8 || !looksLikeTiff(head)) return undefined;
  const le = head[0] === 0x49;
  const int = (b: Uint8Array, at: number, bytes: number): number => {
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (bytes === 1) return b[at];
    if (bytes === 2) return view.getUint16(at, le);
    if (bytes === 4) return view.getUint32(at, le);
    return Number(view.getBigUint64(at, le));
  };
  const big = int(head, 2, 2) === 43;
  const ifd = big ? int(head, 8, 8) : int(head, 4, 4);
  const countBytes = big ? 8 : 2;
  const entryBytes = big ? 20 : 12;
  if (ifd + countBytes > size) return { truncated: `its image directory starts at byte ${thousands(ifd)}, past the end of the file (${thousands(size)} bytes)` };
  const count = int(await readAt(ifd, countBytes), 0, countBytes);
  const table = await readAt(ifd + countBytes, count * entryBytes);
  if (table.length < count * entryBytes) return { truncated: `its image directory runs past the end of the file (${thousands(size)} bytes)` };

  const fields = new Map<number, TiffField>();
  for (let k = 0; k < count; k++) {
    const at = k * entryBytes;
    const tag = int(table, at, 2);
    const type = int(table, at + 2, 2);
    const bytes = TYPE_BYTES[type];
    if (!bytes || !tags.includes(tag)) continue;
    const length = int(table, at + 4, big ? 8 : 4);
    if (length * bytes > MAX_FIELD_BYTES) return undefined;
    const inline = big ? 8 : 4;
    const where = at + (big ? 12 : 8);
    const data = length * bytes <= inline ? table.subarray(where, where + length * bytes) : await readAt(int(table, where, inline), length * bytes);
    if (data.length < length * bytes) return { truncated: `its image directory points past the end of the file (${thousands(size)} bytes)` };
    if (type === 2) {
      const end = data.indexOf(0);
      fields.set(tag, { kind: 'ascii', text: new TextDecoder().decode(data.subarray(0, end < 0 ? data.length : end)) });
    } else if (type === 5) {
      fields.set(tag, { kind: 'rationals', values: Array.from({ length }, (_, i): [number, number] => [int(data, i * 8, 4), int(data, i * 8 + 4, 4)]) });
    } else {
      fields.set(tag, { kind: 'integers', values: Array.from({ length }, (_, i) => int(data, i * bytes, bytes)) });
    }
  }
  return { fields };
}

/** The integer values of a field, when it holds integers. */
export function integers(fields: Map<number, TiffField>, tag: number): number[] | undefined {
  const field = fields.get(tag);
  return field?.kind === 'integers' ? field.values : undefined;
}

/** The text of a field, when it holds ASCII. */
export function ascii(fields: Map<number, TiffField>, tag: number): string | undefined {
  const field = fields.get(tag);
  return field?.kind === 'ascii' ? field.text : undefined;
}

/** The first rational of a field, when it holds rationals. */
export function rational(fields: Map<number, TiffField>, tag: number): [number, number] | undefined {
  const field = fields.get(tag);
  return field?.kind === 'rationals' ? field.values[0] : undefined;
}

export function thousands(value: number): string {
  return value.toLocaleString('en-US');
}
