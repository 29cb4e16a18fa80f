import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { decodeLimit, formatBytes, parseBytes, refuseOversized } from '../../src/io/decode-limit.js';
import { SampleError } from '../../src/errors.js';

test('the limit is a quarter of memory unless UNETFLOW_MAX_IMAGE_BYTES sets it, in bytes or with a binary suffix', () => {
  assert.ok(decodeLimit({}).bytes <= Math.floor(totalmem() / 4));
  assert.deepEqual(decodeLimit({ UNETFLOW_MAX_IMAGE_BYTES: '8G' }), { bytes: 8 * 1024 ** 3, why: 'UNETFLOW_MAX_IMAGE_BYTES=8G' });
  assert.deepEqual([parseBytes('1024'), parseBytes('1.5k'), parseBytes('2MiB'), parseBytes('1T'), parseBytes('lots')], [1024, 1536, 2 * 1024 ** 2, 1024 ** 4, undefined]);
  assert.throws(() => decodeLimit({ UNETFLOW_MAX_IMAGE_BYTES: 'lots' }), /UNETFLOW_MAX_IMAGE_BYTES=lots: expected a number of bytes/);
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
});

test('an image is refused when its float32 samples exceed the limit, and passes at the limit', () => {
  const limit = { bytes: 4 * 100 * 100 * 3, why: 'test' };
  refuseOversized('a.tif', 'load', { width: 100, height: 100, channels: 3 }, limit);
  assert.throws(
    () => refuseOversized('a.tif', 'load', { width: 100, height: 101, channels: 3 }, limit),
    (e: unknown) => e instanceof SampleError && e.message === 'load: a.tif: the image is 100 x 101 px, 3 channels: 118.4 KiB as float32 samples, more than this run can hold (117.2 KiB: test); refused before decoding',
  );
});
