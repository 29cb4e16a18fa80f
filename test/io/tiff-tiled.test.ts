import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeImage, type DType, type Image } from '../../src/image/image.js';
import { imagePlane } from '../../src/io/image-regions.js';
import { inspectImage, readImage } from '../../src/io/read.js';
import { integers, readFirstDirectory } from '../../src/io/tiff-directory.js';
import { TiledTiffWriter } from '../../src/io/tiff-tiled.js';
import { tempDir } from '../helpers/files.js';

function pattern(width: number, height: number, dtype: DType, seed = 0): Image {
  const image = makeImage(width, height, 1, dtype);
  for (let i = 0; i < image.data.length; i++) image.data[i] = dtype === 'float32' ? Math.sin(i * 0.01 + seed) : (i * 13 + seed) % (dtype === 'uint8' ? 256 : 65536);
  return image;
}

function crop(image: Image, x: number, y: number, width: number, height: number): Image {
  const out = makeImage(width, height, 1, image.dtype);
  for (let r = 0; r < height; r++) out.data.set(image.data.subarray((y + r) * image.width + x, (y + r) * image.width + x + width), r * width);
  return out;
}

/** Writes `image` as a tiled TIFF, its tiles in a scrambled order. */
async function writeTiled(path: string, image: Image, options: { tile: number; bigtiff?: boolean; pixelSize?: { y: number; x: number } }): Promise<void> {
  const writer = await TiledTiffWriter.create(path, { width: image.width, height: image.height, dtype: image.dtype, ...options });
  const tiles: [number, number][] = [];
  for (let row = 0; row * options.tile < image.height; row++) for (let col = 0; col * options.tile < image.width; col++) tiles.push([col, row]);
  tiles.sort((a, b) => ((a[0] * 7 + a[1] * 3) % 5) - ((b[0] * 7 + b[1] * 3) % 5));
  for (const [col, row] of tiles) {
    const [x, y] = [col * options.tile, row * options.tile];
    await writer.writeTile(col, row, crop(image, x, y, Math.min(options.tile, image.width - x), Math.min(options.tile, image.height - y)));
  }
  await writer.commit();
}

test('a tiled TIFF written tile by tile in any order reads back exactly, as classic TIFF and as BigTIFF, with its pixel size', async () => {
  const dir = await tempDir();
  for (const dtype of ['uint8', 'uint16', 'float32'] as const) {
    for (const bigtiff of [false, true]) {
      const path = join(dir, `${dtype}-${bigtiff}.tif`);
      const image = pattern(700, 500, dtype);
      await writeTiled(path, image, { tile: 256, bigtiff, pixelSize: { y: 0.5, x: 0.25 } });
      const file = await open(path);
      const head = Buffer.alloc(4);
      await file.read(head, 0, 4, 0);
      const directory = await readFirstDirectory(file, (await file.stat()).size, [322, 323]);
      await file.close();
      assert.equal(head.readUInt16LE(2), bigtiff ? 43 : 42, 'BigTIFF or classic');
      assert.ok(directory && 'fields' in directory);
      assert.deepEqual([integers(directory.fields, 322), integers(directory.fields, 323)], [[256], [256]], 'tiled');
      const read = await readImage(path);
      assert.deepEqual(read, image, `${dtype}, BigTIFF ${bigtiff}`);
      assert.deepEqual((await inspectImage(path)).calibration.pixelSize, { y: 0.5, x: 0.25 });
    }
  }
  assert.deepEqual((await readdir(dir)).filter((n) => !n.endsWith('.tif')), [], 'no temporary file left');
});

test('regions of a tiled TIFF, across tile borders, read as the same pixels of the whole', async () => {
  const path = join(await tempDir(), 'big.tif');
  const image = pattern(1000, 600, 'uint16', 3);
  await writeTiled(path, image, { tile: 128 });
  const plane = await imagePlane(path);
  for (const [x, y, w, h] of [[0, 0, 1000, 600], [100, 120, 300, 17], [999, 599, 1, 1], [127, 127, 2, 2]]) {
    assert.deepEqual(Array.from(await plane.read({ x, y, width: w, height: h })), Array.from(crop(image, x, y, w, h).data), `${x},${y} ${w}x${h}`);
  }
  await assert.rejects(plane.read({ x: 990, y: 0, width: 20, height: 5 }), { message: /region 20 x 5 at 990, 0 is outside the 1000 x 600 image/ });
});

test('an incomplete tiled TIFF is never put in place', async () => {
  const dir = await tempDir();
  const writer = await TiledTiffWriter.create(join(dir, 'x.tif'), { width: 40, height: 40, dtype: 'uint8', tile: 16 });
  await writer.writeTile(0, 0, pattern(16, 16, 'uint8'));
  await assert.rejects(writer.commit(), { message: `${join(dir, 'x.tif')}: 8 tile(s) were not written: the image is incomplete` });
  await writer.abort();
  assert.deepEqual(await readdir(dir), []);
  await assert.rejects(writer.writeTile(2, 2, pattern(16, 16, 'uint8')), { message: 'tile 2, 2 is 16 x 16 x 1 uint8: expected 8 x 8 x 1 uint8' });
});
