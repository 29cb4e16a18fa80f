import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanMetrics, metricNames, segmentationMetrics } from '../../../src/kernels/metrics/segmentation.js';
import { merge, split } from './cases.js';

test('a perfect prediction scores zero on every error and one on IoU and Dice', () => {
  const m = segmentationMetrics(merge.truth, merge.truth, 5, 3);
  for (const name of ['pixelError', 'randError', 'adaptedRandError', 'viSplit', 'viMerge', 'vi', 'warpingError', 'splits', 'merges'] as const) {
    assert.equal(m[name], 0, name);
  }
  assert.deepEqual([m.iou, m.dice, m.randPrecision, m.randRecall], [1, 1, 1, 1]);
  assert.deepEqual([m.truthSegments, m.predictedSegments], [2, 2]);
});

test('the merge case reads as a merge and the split case as a split in every topological metric', () => {
  const joined = segmentationMetrics(merge.truth, merge.prediction, 5, 3);
  assert.ok(joined.viMerge > 0 && joined.viSplit === 0);
  assert.ok(joined.randPrecision < 1 && joined.randRecall === 1);
  assert.deepEqual([joined.merges, joined.splits], [1, 0]);
  const cut = segmentationMetrics(split.truth, split.prediction, 5, 3);
  assert.ok(cut.viSplit > 0 && cut.viMerge === 0);
  assert.ok(cut.randRecall < 1 && cut.randPrecision === 1);
  assert.deepEqual([cut.merges, cut.splits], [0, 1]);
});

test('8-connected segments join cells that touch at a corner', () => {
  const truth = Uint8Array.from([1, 0, 0, 1]);
  assert.equal(segmentationMetrics(truth, truth, 2, 2).truthSegments, 2);
  assert.equal(segmentationMetrics(truth, truth, 2, 2, { connectivity: 8 }).truthSegments, 1);
});

test('the mean weighs every image the same, metric by metric', () => {
  const a = segmentationMetrics(merge.truth, merge.prediction, 5, 3);
  const b = segmentationMetrics(split.truth, split.prediction, 5, 3);
  const mean = meanMetrics([a, b]);
  for (const name of metricNames) assert.equal(mean[name], (a[name] + b[name]) / 2, name);
  assert.throws(() => meanMetrics([]), /no metrics to average/);
});

test('masks that do not fit the stated size are refused', () => {
  assert.throws(() => segmentationMetrics(new Uint8Array(6), new Uint8Array(6), 2, 2), /masks must have 2x2 = 4 pixels, got 6 \(truth\)/);
});
