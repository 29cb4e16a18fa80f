import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageDecodeLimit } from '../../../src/web/image/limit.js';

test('a page may decode a quarter of the memory the browser reports, at most a quarter of the 4 GiB wasm heap', () => {
  assert.deepEqual(pageDecodeLimit(2), { bytes: 2 ** 29, why: 'a quarter of the 2.0 GiB of memory the browser reports' });
  assert.deepEqual(pageDecodeLimit(8), { bytes: 2 ** 30, why: "a quarter of the 4.0 GiB a page's wasm heap holds" });
  assert.deepEqual(pageDecodeLimit(undefined), pageDecodeLimit(8));
});
