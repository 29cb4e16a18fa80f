import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { inspectImage, readImage } from '../../src/io/read.js';
import { writeImage, type ImageFormat } from '../../src/io/write.js';
import { makeImage, type DType } from '../../src/image/image.js';
import { SampleError } from '../../src/errors.js';
import { pixels, randomImage } from '../helpers/images.js';

const NUCLEI = '../shared/data/dsb2018-nuclei/image.tif';
const STACK = '../shared/data/dsb2018-nuclei/synthetic-stack.tif';
const EM = '../shared/data/isbi2012/train/image/00.png';
const tmp = await mkdtemp(join(tmpdir(), 'unetflow-io-'));

const cases: [DType, number, ImageFormat][] = [
  ['uint8', 1, 'png'], ['uint8', 3, 'png'], ['uint16', 1, 'png'], ['uint16', 3, 'png'],
  ['uint8', 1, 'tiff'], ['uint8', 3, 'tiff'], ['uint16', 1, 'tiff'], ['float32', 1, 'tiff'],
];
for (const [dtype, channels, format] of cases) {
  test(`a ${dtype} ${channels}-channel image round-trips exactly through ${format}`, async () => {
    const image = randomImage(37, 23, channels, dtype, channels * 7);
    const path = join(tmp, `rt-${dtype}-${channels}.${format}`);
    await writeImage(path, image, format);
    const info = await inspectImage(path);
    assert.deepEqual([info.width, info.height, info.channels, info.dtype, info.pages], [37, 23, channels, dtype, 1]);
    const back = await readImage(path);
    assert.deepEqual([back.width, back.height, back.channels, back.dtype], [37, 23, channels, dtype]);
    assert.deepEqual(pixels(back), pixels(image));
  });
}

test('float32 TIFF keeps special values bit-exactly and sharp reads it back', async () => {
  const values = Float32Array.from([0, -0.5, 1e-30, 3.4e38, 0.1, -7.25]);
  const path = join(tmp, 'float.tif');
  await writeImage(path, makeImage(3, 2, 1, 'float32', values), 'tiff');
  const { data, info } = await sharp(path).toColourspace('b-w').raw({ depth: 'float' }).toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 1);
  assert.deepEqual(Array.from(new Float32Array(data.buffer, data.byteOffset, 6)), Array.from(values));
});

test('a multi-page TIFF written here reads back page by page', async () => {
  const pages = [0, 1, 2].map((s) => randomImage(9, 5, 1, 'float32', s + 100));
  const path = join(tmp, 'pages.tif');
  await writeImage(path, pages, 'tiff');
  assert.equal((await inspectImage(path)).pages, 3);
  for (let p = 0; p < 3; p++) assert.deepEqual(pixels(await readImage(path, p)), pixels(pages[p]));
});

test('the 16-bit nuclei image is read as uint16 with its own values', async () => {
  const image = await readImage(NUCLEI);
  assert.deepEqual([image.width, image.height, image.channels, image.dtype], [512, 512, 1, 'uint16']);
  let max = 0;
  for (const v of image.data) max = Math.max(max, v);
  assert.ok(max > 200 && max <= 235, `max ${max}`); // an 8-bit range in a 16-bit container
  const path = join(tmp, 'nuclei.png');
  await writeImage(path, image, 'png');
  assert.deepEqual(pixels(await readImage(path)), pixels(image));
});

test('each page of the synthetic 16-bit stack is its own image', async () => {
  const info = await inspectImage(STACK);
  assert.equal(info.pages, 31);
  assert.equal(info.dtype, 'uint16');
  const a = await readImage(STACK, 0, 'load', info);
  const b = await readImage(STACK, 30, 'load', info);
  assert.deepEqual([a.width, a.height, a.channels], [57, 61, 1]);
  assert.notDeepEqual(pixels(a), pixels(b));
  await assert.rejects(readImage(STACK, 31), /page 31 does not exist: the file has 31 page/);
});

test('an 8-bit EM slice is read as one channel, not expanded to RGB', async () => {
  const image = await readImage(EM);
  assert.deepEqual([image.channels, image.dtype], [1, 'uint8']);
});

test('bad files give one clear error naming the file', async () => {
  const bytes = await readFile(EM);
  const truncated = join(tmp, 'truncated.png');
  await writeFile(truncated, bytes.subarray(0, bytes.length / 2));
  const empty = join(tmp, 'empty.tif');
  await writeFile(empty, '');
  const text = join(tmp, 'notes.png');
  await writeFile(text, 'not an image at all');
  const expectations: [string, RegExp][] = [
    [join(tmp, 'missing.png'), /missing\.png: cannot read: file not found/],
    [truncated, /truncated\.png: the image is corrupt or truncated/],
    [empty, /empty\.tif: the file is empty \(0 bytes\)/],
    [text, /notes\.png: not a readable image: expected PNG, JPEG or TIFF/],
  ];
  for (const [path, message] of expectations) {
    await assert.rejects(readImage(path), (e: unknown) => e instanceof SampleError && message.test(e.message) && e.file === path);
  }
});

test('formats refuse data they cannot hold instead of converting it', async () => {
  await assert.rejects(writeImage(join(tmp, 'f.png'), randomImage(2, 2, 1, 'float32'), 'png'), /PNG cannot hold float32 data: save it as TIFF/);
  await assert.rejects(writeImage(join(tmp, 'two.png'), randomImage(2, 2, 2, 'uint8'), 'png'), /1, 3 or 4 channels, got 2/);
});

test('writes leave no temporary files behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-atomic-'));
  await writeImage(join(dir, 'a.png'), randomImage(4, 4, 1, 'uint8'), 'png');
  await assert.rejects(writeImage(join(dir, 'b.png'), randomImage(4, 4, 1, 'float32'), 'png'));
  assert.deepEqual(await readdir(dir), ['a.png']);
});

test('JPEG is written only when asked for, and reads back as 8-bit close to the original', async () => {
  const smooth = makeImage(32, 32, 1, 'uint8', Uint8Array.from({ length: 1024 }, (_, i) => (i % 32) * 4));
  const path = join(tmp, 'smooth.jpg');
  await writeImage(path, smooth, 'jpeg', { quality: 95 });
  const info = await inspectImage(path);
  assert.deepEqual([info.format, info.channels, info.dtype], ['jpeg', 1, 'uint8']);
  const back = await readImage(path);
  const worst = pixels(back).reduce((m, v, i) => Math.max(m, Math.abs(v - smooth.data[i])), 0);
  assert.ok(worst <= 6, `largest JPEG error ${worst}`);
  await assert.rejects(writeImage(join(tmp, 'x.jpg'), randomImage(4, 4, 1, 'uint16'), 'jpeg'), /JPEG holds 8-bit data only/);
});
