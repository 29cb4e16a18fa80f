/**
 * A decompression bomb, made on the spot: a tiled, deflate-compressed 8-bit TIFF whose
 * header claims `side` x `side` pixels, every tile pointing at one compressed tile of
 * zeros. A 100000 px side is 1.2 MB on disk and 10 GB of pixels once decoded.
 */
import { writeFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';

const TILE = 256;

export async function writeTiffBomb(path: string, side: number): Promise<void> {
  const across = Math.ceil(side / TILE);
  const tiles = across * across;
  const tile = deflateSync(Buffer.alloc(TILE * TILE));
  const tags: [number, number, number, number][] = []; // tag, type (3 SHORT, 4 LONG), count, value or offset
  const entries = 11;
  const ifdSize = 2 + entries * 12 + 4;
  const tileAt = 8 + ifdSize;
  const offsetsAt = tileAt + tile.length + ((4 - (tile.length % 4)) % 4);
  const countsAt = offsetsAt + tiles * 4;
  tags.push([256, 4, 1, side], [257, 4, 1, side], [258, 3, 1, 8], [259, 3, 1, 8], [262, 3, 1, 1], [277, 3, 1, 1], [284, 3, 1, 1]);
  tags.push([322, 3, 1, TILE], [323, 3, 1, TILE], [324, 4, tiles, offsetsAt], [325, 4, tiles, countsAt]);
  const file = Buffer.alloc(countsAt + tiles * 4);
  file.write('II', 0, 'latin1');
  file.writeUInt16LE(42, 2);
  file.writeUInt32LE(8, 4);
  file.writeUInt16LE(entries, 8);
  tags.forEach(([tag, type, count, value], i) => {
    const at = 10 + i * 12;
    file.writeUInt16LE(tag, at);
    file.writeUInt16LE(type, at + 2);
    file.writeUInt32LE(count, at + 4);
    if (type === 3 && count === 1) file.writeUInt16LE(value, at + 8);
    else file.writeUInt32LE(value, at + 8);
  });
  file.writeUInt32LE(0, 10 + entries * 12); // no next directory
  tile.copy(file, tileAt);
  for (let i = 0; i < tiles; i++) {
    file.writeUInt32LE(tileAt, offsetsAt + i * 4);
    file.writeUInt32LE(tile.length, countsAt + i * 4);
  }
  await writeFile(path, file);
}
