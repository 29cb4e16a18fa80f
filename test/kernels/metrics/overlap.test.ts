import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlap } from '../../../src/kernels/metrics/overlap.js';
import { mask, merge } from './cases.js';

test('pixel error is the fraction of pixels whose class differs; IoU and Dice measure foreground overlap', () => {
  // One extra foreground pixel out of 15; 12 shared of 13 in the union.
  assert.deepEqual(overlap(merge.truth, merge.prediction), { pixelError: 1 / 15, iou: 12 / 13, dice: 24 / 25 });
});

test('two empty masks agree perfectly, and disjoint ones not at all', () => {
  assert.deepEqual(overlap(new Uint8Array(4), new Uint8Array(4)), { pixelError: 0, iou: 1, dice: 1 });
  assert.deepEqual(overlap(mask('1100'), mask('0011')), { pixelError: 1, iou: 0, dice: 0 });
});

test('any nonzero value is foreground', () => {
  assert.deepEqual(overlap(Uint8Array.of(255, 0), Uint8Array.of(1, 0)), { pixelError: 0, iou: 1, dice: 1 });
});

test('masks of different sizes are refused', () => {
  assert.throws(() => overlap(new Uint8Array(4), new Uint8Array(5)), /masks differ in size: 4 and 5 pixels/);
});
