import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { DType } from '../../src/image/image.js';
import { inspectImage, readImage } from '../../src/io/read.js';
import { readPngDensity } from '../../src/io/png-density.js';
import { rational } from '../../src/io/tiff-calibration.js';
import { readFirstDirectory } from '../../src/io/tiff-directory.js';
import { writeImage, type ImageFormat } from '../../src/io/write.js';
import { pixels, randomImage } from '../helpers/images.js';

const tmp = await mkdtemp(join(tmpdir(), 'unetflow-calibration-'));

test('a decimal pixel size is stored as the exact fraction of its resolution', () => {
  assert.deepEqual(rational(1 / 0.65), [20, 13]);
  assert.deepEqual(rational(1 / 0.1234), [5000, 617]);
  assert.deepEqual(rational(1e4 / 0.325), [400000, 13]);
  assert.deepEqual(rational(2), [2, 1]);
});

test('any resolution is stored as a 32-bit fraction within 1e-9 of it', () => {
  fc.assert(
    fc.property(fc.double({ min: 1e-6, max: 1e9, noNaN: true }), (value) => {
      const [n, d] = rational(value);
      assert.ok(Number.isInteger(n) && Number.isInteger(d) && n >= 1 && d >= 1 && n <= 0xffffffff && d <= 0xffffffff);
      assert.ok(Math.abs(n / d - value) <= 1e-9 * value, `${value} ~ ${n}/${d}`);
    }),
  );
  assert.throws(() => rational(0), /a resolution must be a positive number, got 0/);
});

const cases: [DType, number, number, ImageFormat, string][] = [
  ['uint8', 1, 1, 'tiff', 'tif'],
  ['uint16', 1, 1, 'tiff', 'tif'],
  ['float32', 1, 3, 'tiff', 'tif'],
  ['uint8', 3, 1, 'tiff', 'tif'],
  ['uint16', 1, 1, 'tiff', 'ome.tif'],
  ['float32', 1, 2, 'ome-tiff', 'ome.tif'],
];
for (const [dtype, channels, pages, format, ext] of cases) {
  test(`a ${dtype} ${channels}-channel ${pages}-page ${ext} keeps an anisotropic pixel size and its pixels through unetflow's reader`, async () => {
    const images = Array.from({ length: pages }, (_, p) => randomImage(11, 7, channels, dtype, p + 3));
    const path = join(tmp, `${dtype}-${channels}-${pages}-${format}.${ext}`);
    await writeImage(path, images, format, { pixelSize: { y: 0.48, x: 0.1625 } });
    const info = await inspectImage(path);
    assert.deepEqual(info.calibration, { pixelSize: { y: 0.48, x: 0.1625 }, problems: [] });
    for (let p = 0; p < pages; p++) assert.deepEqual(pixels(await readImage(path, p, 'load', info)), pixels(images[p]));
    const bytes = await readFile(path);
    // The description is written once, on the first page.
    const marker = ext === 'ome.tif' ? '<OME ' : 'ImageJ=';
    assert.equal(bytes.toString('latin1').split(marker).length - 1, 1);
  });
}

test('an uncalibrated TIFF has no description and no resolution tags, as before', async () => {
  const path = join(tmp, 'plain.tif');
  await writeImage(path, randomImage(5, 4, 1, 'uint8'), 'tiff');
  const file = await open(path, 'r');
  const directory = await readFirstDirectory(file, (await file.stat()).size, [270, 282, 283, 296]);
  await file.close();
  assert.deepEqual(directory, { fields: new Map() });
  assert.deepEqual((await inspectImage(path)).calibration, { problems: [] });
});

test('an uncalibrated .ome.tif still carries OME-XML, without physical sizes', async () => {
  const path = join(tmp, 'plain.ome.tif');
  await writeImage(path, randomImage(5, 4, 1, 'uint16'), 'tiff');
  const text = (await readFile(path)).toString('utf8');
  assert.match(text, /<Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" BigEndian="false" SizeX="5" SizeY="4" SizeC="1" SizeZ="1" SizeT="1">/);
  assert.doesNotMatch(text, /PhysicalSize/);
  assert.deepEqual((await inspectImage(path)).calibration, { problems: [] });
});

test('a pixel size goes into a PNG and comes back as the same decimals, though pHYs counts whole pixels per metre', async () => {
  for (const size of [{ y: 0.5, x: 0.5 }, { y: 0.123, x: 0.123 }, { y: 6.45, x: 0.0917 }]) {
    const path = join(tmp, `calibrated-${size.y}-${size.x}.png`);
    await writeImage(path, randomImage(6, 5, 1, 'uint16'), 'png', { pixelSize: size });
    assert.deepEqual((await inspectImage(path)).calibration, { pixelSize: size, problems: [] });
  }
});

test('an uncalibrated PNG says only that its pixels are square, not libvips\'s 1 mm', async () => {
  const path = join(tmp, 'uncalibrated.png');
  await writeImage(path, randomImage(6, 5, 3, 'uint8'), 'png');
  assert.deepEqual(await readPngDensity(path), { x: 1, y: 1, unit: 0 });
  assert.deepEqual((await inspectImage(path)).calibration, { problems: [] });
});

test('a pixel size that is not two positive numbers is refused, not written', async () => {
  for (const format of ['tiff', 'ome-tiff', 'png'] as const) {
    await assert.rejects(writeImage(join(tmp, `bad.${format}`), randomImage(3, 3, 1, 'uint8'), format, { pixelSize: { y: 0, x: 0.5 } }), /cannot record a pixel size of y 0 µm, x 0.5 µm: expected positive numbers/);
  }
});
