import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectedComponents } from '../../../src/kernels/components.js';
import { foregroundContingency } from '../../../src/kernels/metrics/contingency.js';
import { foregroundRestrictedRandError } from '../../../src/kernels/metrics/rand.js';
import { adaptedRandError } from '../../../src/kernels/metrics/adapted-rand.js';
import { merge, split, type MaskPair } from './cases.js';

const table = ({ truth, prediction, width, height }: MaskPair) =>
  foregroundContingency(connectedComponents(truth, width, height).labels, connectedComponents(prediction, width, height).labels);

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);

test('a gap in a membrane that joins two cells costs Rand precision, not recall', () => {
  // 12 truth-foreground pixels in two cells of 6, all in one predicted segment.
  // sum a_i^2 = 72, sum b_j^2 = 144, sum n_ij^2 = 72: precision 1/2, recall 1, F = 2/3.
  const r = foregroundRestrictedRandError(table(merge));
  close(r.precision, 0.5, 'precision');
  close(r.recall, 1, 'recall');
  close(r.error, 1 / 3, 'error');
});

test('a cut through a cell costs Rand recall, and its background pixels count as singletons', () => {
  // 15 truth pixels in one cell; predicted: 6 + 6 + 3 singletons. sum a^2 = 225, sum b^2 = sum n^2 = 75.
  const r = foregroundRestrictedRandError(table(split));
  close(r.precision, 1, 'precision');
  close(r.recall, 1 / 3, 'recall');
  close(r.error, 0.5, 'error');
});

test('the adapted Rand error counts pairs of distinct pixels and keeps predicted background as one segment', () => {
  // merge: together 72-12 = 60, truth pairs 60, predicted pairs 144-12 = 132: F = 60/96.
  close(adaptedRandError(table(merge)).error, 1 - 60 / 96, 'merge');
  // split: cells 6, 6 and the background's 3: together 81-15 = 66, truth pairs 210, predicted pairs 66.
  const s = adaptedRandError(table(split));
  close(s.error, 1 - 66 / 138, 'split');
  close(s.precision, 1, 'precision');
  close(s.recall, 66 / 210, 'recall');
});

test('a perfect prediction has no Rand error of either kind', () => {
  const perfect = { ...merge, prediction: merge.truth };
  assert.deepEqual(foregroundRestrictedRandError(table(perfect)), { error: 0, precision: 1, recall: 1 });
  assert.equal(adaptedRandError(table(perfect)).error, 0);
});

test('a truth without foreground leaves nothing to get wrong', () => {
  const empty = { ...merge, truth: new Uint8Array(15) };
  assert.deepEqual(foregroundRestrictedRandError(table(empty)), { error: 0, precision: 1, recall: 1 });
  assert.equal(adaptedRandError(table(empty)).error, 0);
});

test('the contingency table counts only pixels that are foreground in the truth', () => {
  const t = table(merge);
  assert.equal(t.total, 12);
  assert.deepEqual(Array.from(t.truthSizes), [0, 6, 6]);
  assert.deepEqual(Array.from(t.predictionSizes), [0, 12]);
  assert.equal(t.count.length, 2);
});
