/** An image read from an int16 (or int8, int32, uint32) file keeps that type through the kernels that move its values, so that `unet` normalises its tiles by it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeImage } from '../../src/image/image.js';
import { warp, zeroField } from '../../src/kernels/elastic.js';
import { crop, mirrorPad, unpad } from '../../src/kernels/mirror.js';
import { mirroredCrop } from '../../src/model/training/tiles.js';

const image = makeImage(6, 5, 1, 'float32', Float32Array.from({ length: 30 }, (_, i) => i * 1000 - 9000), 'int16');
const margins = { top: 2, bottom: 1, left: 3, right: 2 };

test('mirroring, cropping and unpadding keep the source type', () => {
  assert.equal(mirrorPad(image, margins).sourceType, 'int16');
  assert.equal(crop(image, { x: 1, y: 1, width: 3, height: 2 }).sourceType, 'int16');
  assert.equal(unpad(mirrorPad(image, margins), margins).sourceType, 'int16');
});

test('an elastic warp and a mirrored training crop keep the source type', () => {
  assert.equal(warp(image, zeroField(6, 5)).sourceType, 'int16');
  assert.equal(warp(image, zeroField(6, 5), 'linear').sourceType, 'int16');
  assert.equal(mirroredCrop(image, -2, -2, 8, 'reflect').sourceType, 'int16');
});

test('images without a source type gain none', () => {
  const plain = makeImage(6, 5, 1, 'uint16');
  assert.ok(!('sourceType' in mirrorPad(plain, margins)));
  assert.ok(!('sourceType' in warp(plain, zeroField(6, 5))));
});
