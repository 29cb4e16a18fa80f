import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchObjects } from '../../../src/kernels/metrics/object-matching.js';

/** A 1-row labelling from a string: '.' = background, a digit = that object's id. */
const row = (s: string) => Int32Array.from(s, (c) => (c === '.' ? 0 : Number(c)));

test('objects overlapping at IoU >= 0.5 match one to one; F1 counts the rest as misses and false detections', () => {
  // Truth 1 (4 px) vs prediction 1 (4 px, 3 shared): IoU 3/5 = 0.6, a match.
  // Truth 2 (4 px) vs prediction 2 (2 px inside it): IoU 2/4 = 0.5, a match at the threshold.
  // Truth 3 (2 px) vs prediction 3 (1 px): IoU 1/2 ... and prediction 4 (2 px) overlaps nothing.
  // Truth 4 (4 px) is split into predictions 5 and 6 (1 px each, IoU 1/4): a miss and two false detections.
  const truth = row('1111..2222..33..4444..');
  const pred = row('.1111..22...3.445..6..');
  const m = matchObjects(truth, pred);
  // Matches: (1,1) 0.6, (2,2) 0.5, (3,3) 0.5. Unmatched: truth 4; predictions 4, 5, 6.
  assert.deepEqual([m.truePositives, m.falsePositives, m.falseNegatives], [3, 3, 1]);
  assert.equal(m.precision, 3 / 6);
  assert.equal(m.recall, 3 / 4);
  assert.equal(m.f1, 6 / 10);
  assert.ok(Math.abs(m.meanMatchedIoU - (0.6 + 0.5 + 0.5) / 3) < 1e-12);
});

test('a prediction at IoU 0.5 with two true objects matches one of them, and two predictions at 0.5 with one object match once', () => {
  // Prediction 1 covers truths 1 and 2, IoU 2/4 with each: one match (the lower id on a tie).
  const oneToTwo = matchObjects(row('1122'), row('1111'));
  assert.deepEqual([oneToTwo.truePositives, oneToTwo.falsePositives, oneToTwo.falseNegatives], [1, 0, 1]);
  const twoToOne = matchObjects(row('1111'), row('1122'));
  assert.deepEqual([twoToOne.truePositives, twoToOne.falsePositives, twoToOne.falseNegatives], [1, 1, 0]);
});

test('empty on both sides scores 1, one side empty scores 0, and mismatched sizes are refused', () => {
  assert.equal(matchObjects(row('....'), row('....')).f1, 1);
  assert.equal(matchObjects(row('11..'), row('....')).f1, 0);
  assert.equal(matchObjects(row('....'), row('.1..')).f1, 0);
  assert.throws(() => matchObjects(row('1'), row('11')), /differ in size/);
});
