import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simplePointWarp, warpingError } from '../../../src/kernels/metrics/warping.js';
import { mask, merge, split } from './cases.js';

test('a gap in a membrane cannot be warped away and counts as one merge', () => {
  const w = warpingError(merge.truth, merge.prediction, merge.width, merge.height);
  assert.equal(w.mismatches, 1);
  assert.equal(w.error, 1 / 15);
  assert.deepEqual([w.merges, w.splits, w.mergePixels], [1, 0, 1]);
});

test('a cut through a cell is warped in as far as topology allows and counts as one split', () => {
  // The top two pixels of the cut only dent the cell (simple points); the last one would cut it.
  const w = warpingError(split.truth, split.prediction, split.width, split.height);
  assert.deepEqual(Array.from(w.warped), Array.from(mask('11011', '11011', '11111')));
  assert.equal(w.mismatches, 1);
  assert.deepEqual([w.splits, w.merges, w.splitPixels], [1, 0, 1]);
});

test('a boundary drawn one pixel off is warped away entirely', () => {
  const truth = mask('00000', '01110', '01110', '01110', '00000');
  const prediction = mask('00000', '01111', '01111', '01111', '00000');
  const w = warpingError(truth, prediction, 5, 5);
  assert.deepEqual(Array.from(w.warped), Array.from(prediction));
  assert.equal(w.error, 0);
});

test('an object the truth lacks is a mismatch but neither a split nor a merge', () => {
  const truth = mask('00000', '00000', '00000');
  const prediction = mask('00000', '00100', '00000');
  const w = warpingError(truth, prediction, 5, 3);
  assert.deepEqual([w.mismatches, w.splits, w.merges], [1, 0, 0]);
});

test('a merge along a line of pixels counts once', () => {
  // Two cells with a two-pixel-thick membrane; the prediction opens it across both columns.
  const truth = mask('110011', '110011', '110011');
  const prediction = mask('110011', '111111', '110011');
  const w = warpingError(truth, prediction, 6, 3);
  assert.equal(w.merges, 1);
  assert.ok(w.mergePixels >= 1);
});

test('a perfect prediction has no warping error and warping leaves the truth as it is', () => {
  const w = warpingError(split.truth, split.truth, 5, 3);
  assert.deepEqual([w.error, w.mismatches, w.splits, w.merges], [0, 0, 0, 0]);
  assert.deepEqual(Array.from(simplePointWarp(merge.truth, merge.truth, 5, 3)), Array.from(merge.truth));
});

test('warping does not change its inputs', () => {
  const truth = Uint8Array.from(split.truth);
  warpingError(truth, split.prediction, 5, 3);
  assert.deepEqual(truth, split.truth);
});
