import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SIMPLE, ringCode } from '../../../src/kernels/metrics/simple-point.js';
import { mask } from './cases.js';

const centre = (...rows: string[]) => SIMPLE[ringCode(mask(...rows), 3, 3, 1, 1)] === 1;

test('a pixel on a straight boundary is simple', () => {
  assert.equal(centre('111', '111', '000'), true);
  assert.equal(centre('111', '101', '000'), true); // adding it to the object leaves it one object
});

test('a pixel that bridges two objects, fills a hole, or stands alone is not simple', () => {
  assert.equal(centre('010', '010', '010'), false, 'removing it splits the line');
  assert.equal(centre('101', '101', '101'), false, 'adding it joins two objects');
  assert.equal(centre('111', '101', '111'), false, 'adding it fills a hole');
  assert.equal(centre('000', '010', '000'), false, 'removing it deletes an object');
  assert.equal(centre('000', '000', '000'), false, 'adding it creates an object');
});

test('diagonal neighbours are not connected foreground, so a corner touch is two objects', () => {
  assert.equal(centre('100', '000', '001'), false);
  assert.equal(centre('100', '010', '000'), false, 'a corner does not connect it, so removing it deletes an object');
});

test('pixels outside the image count as background', () => {
  assert.equal(ringCode(mask('11', '11'), 2, 2, 0, 0), 0b00111000); // E, SE, S
});
