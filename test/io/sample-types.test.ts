import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SampleError } from '../../src/errors.js';
import { encodeTiff } from '../../src/io/tiff.js';
import { inspectImage, readImage } from '../../src/io/read.js';
import { pixels, randomImage } from '../helpers/images.js';
import { typedTiff, type TypedPixels } from './typed-tiff.js';

const tmp = await mkdtemp(join(tmpdir(), 'unetflow-types-'));

async function tiff(name: string, width: number, height: number, channels: number, data: TypedPixels): Promise<string> {
  const path = join(tmp, name);
  await writeFile(path, typedTiff(width, height, channels, data));
  return path;
}

// Each type's extremes and values around zero: all must come back exactly.
const cases = [
  ['int8', Int8Array.from([-128, -1, 0, 1, 100, 127])],
  ['int16', Int16Array.from([-32768, -1, 0, 1, 4095, 32767])],
  ['int32', Int32Array.from([-16777216, -1, 0, 1, 70000, 16777216])],
  ['uint32', Uint32Array.from([0, 1, 255, 65536, 70000, 16777216])],
] as const;

for (const [type, values] of cases) {
  test(`a grey ${type} TIFF is read as float32 with its exact values and its source type`, async () => {
    const path = await tiff(`${type}.tif`, 3, 2, 1, values);
    const info = await inspectImage(path);
    assert.deepEqual([info.dtype, info.sourceType, info.channels], ['float32', type, 1]);
    const image = await readImage(path);
    assert.deepEqual([image.width, image.height, image.channels, image.dtype, image.sourceType], [3, 2, 1, 'float32', type]);
    assert.deepEqual(pixels(image), Array.from(values));
  });

  test(`an RGB ${type} TIFF is read with its exact values`, async () => {
    const rgb = Array.from({ length: 6 }, (_, i) => values[(i * 5) % 6]);
    const data = values instanceof Int8Array ? Int8Array.from(rgb) : values instanceof Int16Array ? Int16Array.from(rgb) : values instanceof Int32Array ? Int32Array.from(rgb) : Uint32Array.from(rgb);
    const image = await readImage(await tiff(`${type}-rgb.tif`, 2, 1, 3, data));
    assert.deepEqual([image.channels, image.dtype, image.sourceType], [3, 'float32', type]);
    assert.deepEqual(pixels(image), rgb);
  });
}

test('8-bit, 16-bit and float32 images carry no source type', async () => {
  for (const data of [new Uint8Array(6), new Uint16Array(6), new Float32Array(6)]) {
    const image = await readImage(await tiff(`plain-${data.constructor.name}.tif`, 3, 2, 1, data));
    assert.equal(image.sourceType, undefined);
    assert.ok(!('sourceType' in image), 'not even as an undefined key');
  }
});

function rejectsWith(path: string, pattern: RegExp): Promise<void> {
  return assert.rejects(readImage(path), (e: unknown) => {
    assert.ok(e instanceof SampleError, `a SampleError, got ${e}`);
    assert.match(e.message, pattern);
    assert.equal(e.file, path);
    assert.ok(!e.message.includes('\n'), `one line, got:\n${e.message}`);
    return true;
  });
}

test('a float64 TIFF is refused as unsupported, with what to do, not as corrupt', async () => {
  const path = await tiff('double.tif', 3, 2, 1, Float64Array.from([0, 0.5, 1, 2, 3, 4]));
  await rejectsWith(path, /double\.tif: float64 samples are not supported: save the image as float32/);
  await assert.rejects(inspectImage(path), /float64 samples are not supported/);
});

test('a TIFF cut short in its pixel data gives one line that says so, the full libtiff text kept as cause', async () => {
  const whole = typedTiff(300, 200, 1, Uint16Array.from({ length: 60000 }, (_, i) => i % 4096));
  const path = join(tmp, 'cut-pixels.tif');
  await writeFile(path, whole.subarray(0, 60000));
  await rejectsWith(path, /cut-pixels\.tif: the TIFF is truncated: the file has 60,000 bytes, its pixel data runs to byte 120,\d{3}/);
  const error = await readImage(path).then(() => assert.fail('read a truncated TIFF'), (e: SampleError) => e);
  assert.match((error.cause as Error).message, /StripByteCounts/);
});

test('a TIFF cut short before its image directory gives one line that says so', async () => {
  const whole = encodeTiff([randomImage(300, 200, 1, 'uint16', 3)]); // the directory is written last
  const path = join(tmp, 'cut-directory.tif');
  await writeFile(path, whole.subarray(0, whole.length / 2));
  await rejectsWith(path, /cut-directory\.tif: the TIFF is truncated: its image directory starts at byte [\d,]+, past the end of the file \([\d,]+ bytes\)/);
});

test('inspecting an RGBA image reports 3 colour channels and the alpha', async () => {
  const info = await inspectImage(await tiff('rgba.tif', 2, 2, 4, new Uint8Array(16)));
  assert.deepEqual([info.channels, info.alpha], [3, true]);
});
