import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { makeImage } from '../../src/image/image.js';
import { encodeImage } from '../../src/io/write.js';

test('a PNG is written past sharp\'s 268-megapixel input limit: the pixels are the run\'s own', async () => {
  // 16,384² = 268,435,456 px, just over sharp's 16,383² (256 MiB of zeros: a small PNG).
  const side = 16_384;
  const image = makeImage(side, side, 1, 'uint8', new Uint8Array(side * side));
  const meta = await sharp(await encodeImage(image, 'png'), { limitInputPixels: false }).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', side, side]);
});

test('a JPEG side over 65,535 px is refused with the limit and the formats that hold it', async () => {
  await assert.rejects(encodeImage(makeImage(65_536, 1, 1, 'uint8', new Uint8Array(65_536)), 'jpeg'), /JPEG holds at most 65535 px a side, the image is 65536x1: save as PNG or TIFF/);
});
