/**
 * Golden values from test/golden/metrics.py: scikit-image 0.26 for the adapted Rand error and
 * VI, line-by-line ports of Fiji Trainable_Segmentation for the ISBI Rand error and the warping
 * error, on crops of ISBI 2012 labels with made-up predictions. Tolerance: 1e-9 absolute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { segmentationMetrics, type SegmentationMetrics } from '../../../src/kernels/metrics/segmentation.js';
import { SIMPLE } from '../../../src/kernels/metrics/simple-point.js';
import { warpingError } from '../../../src/kernels/metrics/warping.js';

interface GoldenCase {
  name: string;
  width: number;
  height: number;
  truth: string;
  prediction: string;
  expected: Omit<SegmentationMetrics, 'warpingError' | 'splits' | 'merges'> & {
    warping: { error: number; mismatches: number; splits: number; merges: number; splitPixels: number; mergePixels: number };
  };
}
const golden = JSON.parse(readFileSync(new URL('../../golden/metrics.json', import.meta.url), 'utf8')) as {
  tolerance: number;
  simplePoints: number[];
  cases: GoldenCase[];
};

/** numpy.packbits, row-major, most significant bit first. */
function unpack(base64: string, length: number): Uint8Array {
  const bytes = Buffer.from(base64, 'base64');
  return Uint8Array.from({ length }, (_, i) => (bytes[i >> 3] >> (7 - (i & 7))) & 1);
}

test('the simple-point table equals Fiji\'s simple2DBertrand on all 256 neighbourhoods', () => {
  assert.deepEqual(Array.from(SIMPLE), golden.simplePoints);
});

for (const c of golden.cases) {
  test(`metrics of "${c.name}" match scikit-image and the Fiji definitions`, () => {
    const truth = unpack(c.truth, c.width * c.height);
    const prediction = unpack(c.prediction, c.width * c.height);
    const m = segmentationMetrics(truth, prediction, c.width, c.height);
    const { warping, ...expected } = c.expected;
    for (const [name, value] of Object.entries(expected)) {
      const actual = m[name as keyof SegmentationMetrics];
      assert.ok(Math.abs(actual - value) <= golden.tolerance, `${name}: got ${actual}, expected ${value}`);
    }
    const w = warpingError(truth, prediction, c.width, c.height);
    assert.deepEqual(
      { error: w.error, mismatches: w.mismatches, splits: w.splits, merges: w.merges, splitPixels: w.splitPixels, mergePixels: w.mergePixels },
      warping,
    );
    assert.deepEqual([m.warpingError, m.splits, m.merges], [warping.error, warping.splits, warping.merges]);
  });
}
