/**
 * A tiled TIFF written tile by tile, for outputs too large to hold or to put in one
 * strip: each tile is compressed and appended as it comes (in any order), and the image
 * directory goes at the end. BigTIFF (64-bit offsets) where the file could pass 4 GiB,
 * classic TIFF otherwise, since some readers (ImageJ's own opener) read only that. The
 * file is written under a temporary name and renamed into place by `commit`; pixel sizes
 * are written as encodeTiff writes them (tiff-calibration.ts).
 */
import { deflateSync } from 'node:zlib';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { DType, Image } from '../image/image.js';
import type { PixelSize } from '../image/pixel-size.js';
import { temporaryPath } from './atomic.js';
import { tiffCalibration } from './tiff-calibration.js';

export interface TiledTiffSpec {
  readonly width: number;
  readonly height: number;
  readonly dtype: DType;
  /** @default 1 */
  readonly channels?: number;
  /** Tile width and height, a multiple of 16 as TIFF requires. @default 256 */
  readonly tile?: number;
  readonly pixelSize?: PixelSize;
  /** OME-XML rather than an ImageJ description. @default false */
  readonly ome?: boolean;
  /** `auto`: BigTIFF only where the file could pass 4 GiB. @default 'auto' */
  readonly bigtiff?: boolean | 'auto';
}

const BYTES = { uint8: 1, uint16: 2, float32: 4 } as const;
const [ASCII, SHORT, LONG, RATIONAL, LONG8] = [2, 3, 4, 5, 16];
type Entry = { tag: number; type: number; values: number[] | Buffer };

export class TiledTiffWriter {
  private offset: number;
  private readonly offsets: number[];
  private readonly counts: number[];
  private readonly across: number;

  private constructor(
    private readonly target: string,
    private readonly temporary: string,
    private readonly file: FileHandle,
    private readonly spec: Required<Omit<TiledTiffSpec, 'pixelSize' | 'bigtiff'>> & TiledTiffSpec,
    private readonly big: boolean,
  ) {
    this.offset = big ? 16 : 8;
    this.across = Math.ceil(spec.width / spec.tile);
    const tiles = this.across * Math.ceil(spec.height / spec.tile);
    this.offsets = new Array<number>(tiles).fill(-1);
    this.counts = new Array<number>(tiles).fill(0);
  }

  static async create(target: string, spec: TiledTiffSpec): Promise<TiledTiffWriter> {
    const full = { channels: 1, tile: 256, ome: false, ...spec };
    if (!(full.tile >= 16 && full.tile % 16 === 0)) throw new RangeError(`tile size ${full.tile}: expected a multiple of 16`);
    // Deflate can grow incompressible data by a little; directory and values stay far below the margin.
    const most = full.width * full.height * full.channels * BYTES[full.dtype] * 1.01 + 2 ** 24;
    const big = spec.bigtiff === 'auto' || spec.bigtiff === undefined ? most > 0xffffffff : spec.bigtiff;
    const temporary = temporaryPath(target);
    const file = await open(temporary, 'w');
    await file.write(Buffer.alloc(big ? 16 : 8), 0, big ? 16 : 8, 0); // the header, written last
    return new TiledTiffWriter(target, temporary, file, full, big);
  }

  /** The tile in column `col`, row `row`: an image of its pixels inside the image (smaller at the right and bottom edges). */
  async writeTile(col: number, row: number, image: Image): Promise<void> {
    const { tile, width, height, channels, dtype } = this.spec;
    const [w, h] = [Math.min(tile, width - col * tile), Math.min(tile, height - row * tile)];
    if (!(col >= 0 && row >= 0 && w > 0 && h > 0)) throw new RangeError(`tile ${col}, ${row} is outside the ${width} x ${height} image`);
    if (image.width !== w || image.height !== h || image.channels !== channels || image.dtype !== dtype) {
      throw new TypeError(`tile ${col}, ${row} is ${image.width} x ${image.height} x ${image.channels} ${image.dtype}: expected ${w} x ${h} x ${channels} ${dtype}`);
    }
    // Tiles are whole at the edges too, padded with zeros.
    const rowBytes = tile * channels * BYTES[dtype];
    const raw = Buffer.alloc(tile * rowBytes);
    const source = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    for (let y = 0; y < h; y++) source.copy(raw, y * rowBytes, y * w * channels * BYTES[dtype], (y + 1) * w * channels * BYTES[dtype]);
    const data = deflateSync(raw);
    const index = row * this.across + col;
    this.offsets[index] = this.offset;
    this.counts[index] = data.length;
    await this.file.write(data, 0, data.length, this.offset);
    this.offset += data.length + (data.length % 2); // word-aligned
  }

  /** Writes the directory and puts the file in place; throws where a tile was never written. */
  async commit(): Promise<void> {
    const missing = this.offsets.filter((o) => o < 0).length;
    if (missing) throw new Error(`${this.target}: ${missing} tile(s) were not written: the image is incomplete`);
    const { width, height, channels, dtype, tile, pixelSize, ome } = this.spec;
    const { description, resolution } = tiffCalibration({ width, height, channels, dtype, pages: 1 }, pixelSize, ome);
    const colour = channels >= 3 && dtype !== 'float32' ? 3 : 1;
    const entries: Entry[] = [
      { tag: 256, type: LONG, values: [width] },
      { tag: 257, type: LONG, values: [height] },
      { tag: 258, type: SHORT, values: Array(channels).fill(BYTES[dtype] * 8) },
      { tag: 259, type: SHORT, values: [8] },
      { tag: 262, type: SHORT, values: [colour === 3 ? 2 : 1] },
      { tag: 277, type: SHORT, values: [channels] },
      { tag: 284, type: SHORT, values: [1] },
      { tag: 322, type: LONG, values: [tile] },
      { tag: 323, type: LONG, values: [tile] },
      { tag: 324, type: this.big ? LONG8 : LONG, values: this.offsets },
      { tag: 325, type: this.big ? LONG8 : LONG, values: this.counts },
      { tag: 339, type: SHORT, values: Array(channels).fill(dtype === 'float32' ? 3 : 1) },
    ];
    if (channels > colour) entries.push({ tag: 338, type: SHORT, values: Array(channels - colour).fill(0) });
    if (description) entries.push({ tag: 270, type: ASCII, values: Buffer.from(description + '\0', 'utf8') });
    if (resolution) {
      entries.push({ tag: 282, type: RATIONAL, values: resolution.x }, { tag: 283, type: RATIONAL, values: resolution.y }, { tag: 296, type: SHORT, values: [resolution.unit] });
    }
    entries.sort((a, b) => a.tag - b.tag);
    const inline = this.big ? 8 : 4;
    const encoded = entries.map((e) => encodeValues(e));
    // Values that do not fit in the entry go before the directory.
    const external = new Map<Entry, number>();
    for (const [i, e] of entries.entries()) {
      if (encoded[i].length <= inline) continue;
      external.set(e, this.offset);
      await this.file.write(encoded[i], 0, encoded[i].length, this.offset);
      this.offset += encoded[i].length + (encoded[i].length % 2);
    }
    const entrySize = this.big ? 20 : 12;
    const ifd = Buffer.alloc((this.big ? 8 : 2) + entries.length * entrySize + (this.big ? 8 : 4));
    if (this.big) ifd.writeBigUInt64LE(BigInt(entries.length), 0);
    else ifd.writeUInt16LE(entries.length, 0);
    for (const [i, e] of entries.entries()) {
      const at = (this.big ? 8 : 2) + i * entrySize;
      const count = e.type === RATIONAL ? 1 : e.type === ASCII ? (e.values as Buffer).length : (e.values as number[]).length;
      ifd.writeUInt16LE(e.tag, at);
      ifd.writeUInt16LE(e.type, at + 2);
      if (this.big) ifd.writeBigUInt64LE(BigInt(count), at + 4);
      else ifd.writeUInt32LE(count, at + 4);
      const where = external.get(e);
      const value = at + (this.big ? 12 : 8);
      if (where === undefined) encoded[i].copy(ifd, value);
      else if (this.big) ifd.writeBigUInt64LE(BigInt(where), value);
      else ifd.writeUInt32LE(where, value);
    }
    const ifdOffset = this.offset;
    if (!this.big && ifdOffset + ifd.length > 0xffffffff) throw new RangeError(`${this.target}: the file passes 4 GiB: expected BigTIFF`);
    await this.file.write(ifd, 0, ifd.length, ifdOffset);
    const header = Buffer.alloc(this.big ? 16 : 8);
    header.write('II', 0, 'latin1');
    if (this.big) {
      header.writeUInt16LE(43, 2);
      header.writeUInt16LE(8, 4);
      header.writeBigUInt64LE(BigInt(ifdOffset), 8);
    } else {
      header.writeUInt16LE(42, 2);
      header.writeUInt32LE(ifdOffset, 4);
    }
    await this.file.write(header, 0, header.length, 0);
    await this.file.sync();
    await this.file.close();
    await rename(this.temporary, this.target);
  }

  /** Removes what was written. */
  async abort(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await rm(this.temporary, { force: true });
  }
}

/** A field's values, little-endian. */
function encodeValues(e: Entry): Buffer {
  if (e.type === ASCII) return e.values as Buffer;
  const values = e.values as number[];
  if (e.type === RATIONAL) {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(values[0], 0);
    b.writeUInt32LE(values[1], 4);
    return b;
  }
  const size = e.type === SHORT ? 2 : e.type === LONG ? 4 : 8;
  const b = Buffer.alloc(values.length * size);
  values.forEach((v, i) => (size === 2 ? b.writeUInt16LE(v, i * 2) : size === 4 ? b.writeUInt32LE(v, i * 4) : b.writeBigUInt64LE(BigInt(v), i * 8)));
  return b;
}
