import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectedComponents } from '../../../src/kernels/components.js';
import { foregroundContingency } from '../../../src/kernels/metrics/contingency.js';
import { variationOfInformation } from '../../../src/kernels/metrics/variation-of-information.js';
import { merge, split, type MaskPair } from './cases.js';

const vi = ({ truth, prediction, width, height }: MaskPair) =>
  variationOfInformation(foregroundContingency(connectedComponents(truth, width, height).labels, connectedComponents(prediction, width, height).labels));

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);

test('joining two equal cells is one bit of merge and no split', () => {
  const v = vi(merge);
  close(v.merge, 1, 'merge');
  close(v.split, 0, 'split');
  close(v.total, 1, 'total');
});

test('cutting a cell is all split, with each predicted-background pixel a segment of its own', () => {
  // 15 pixels: two predicted parts of 6 and three singletons: H(P|T) = 12/15 log2(15/6) + 3/15 log2(15).
  const v = vi(split);
  close(v.split, (12 / 15) * Math.log2(15 / 6) + (3 / 15) * Math.log2(15), 'split');
  close(v.merge, 0, 'merge');
});

test('a perfect prediction, or a truth without foreground, has zero variation of information', () => {
  assert.deepEqual(vi({ ...split, prediction: split.truth }), { split: 0, merge: 0, total: 0 });
  assert.deepEqual(vi({ ...split, truth: new Uint8Array(15) }), { split: 0, merge: 0, total: 0 });
});
