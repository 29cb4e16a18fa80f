import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, toArray } from 'rxjs';
import { evaluate, meanMetrics, type SegmentationMetrics } from '../../operators/evaluate.js';
import { ConfigError, type SampleError } from '../../src/errors.js';
import { makeImage } from '../../src/image/image.js';
import type { Sample } from '../../src/sample.js';

// Two cells either side of a membrane (label 255 = interior); the prediction bridges the membrane.
const labelValues = [255, 255, 0, 255, 255, 255, 255, 0, 255, 255, 255, 255, 0, 255, 255];
const maskValues = [1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1];
const label = () => makeImage(5, 3, 1, 'uint8', Uint8Array.from(labelValues));
const mask = (values = maskValues) => makeImage(5, 3, 1, 'uint8', Uint8Array.from(values));
const probabilities = () => {
  const p = new Float32Array(15 * 2);
  maskValues.forEach((m, i) => {
    p[2 * i + 1] = m ? 0.9 : 0.2;
    p[2 * i] = 1 - p[2 * i + 1];
  });
  return makeImage(5, 3, 2, 'float32', p);
};
const sample = (fields: Partial<Sample> = {}): Sample => ({
  id: 's',
  source: { path: '/in/s.png' },
  image: makeImage(5, 3, 1, 'uint8'),
  label: label(),
  metadata: { kept: true },
  ...fields,
});
const metricsOf = (s: Sample) => s.metadata?.metrics as SegmentationMetrics;

test('evaluate attaches the metrics of the mask against the label and keeps other metadata', async () => {
  const out = await lastValueFrom(from([sample({ mask: mask() })]).pipe(evaluate()));
  const m = metricsOf(out);
  assert.equal(out.metadata?.kept, true);
  assert.equal(m.pixelError, 1 / 15);
  assert.ok(Math.abs(m.randError - 1 / 3) < 1e-12);
  assert.deepEqual([m.merges, m.splits, m.truthSegments, m.predictedSegments], [1, 0, 2, 1]);
});

test('without a mask, evaluate thresholds the foreground probability', async () => {
  const a = await lastValueFrom(from([sample({ probabilities: probabilities() })]).pipe(evaluate({ at: 0.5 })));
  assert.equal(metricsOf(a).pixelError, 1 / 15);
  const lenient = await lastValueFrom(from([sample({ probabilities: probabilities() })]).pipe(evaluate({ at: 0.1 })));
  assert.equal(metricsOf(lenient).pixelError, 3 / 15, 'at 0.1 every pixel is foreground');
});

test('a perfect mask scores zero errors and the input sample is left as it was', async () => {
  const input = sample({ mask: mask(labelValues.map((v) => (v ? 1 : 0))) });
  const out = await lastValueFrom(from([input]).pipe(evaluate()));
  assert.deepEqual([metricsOf(out).pixelError, metricsOf(out).randError, metricsOf(out).vi, metricsOf(out).warpingError], [0, 0, 0, 0]);
  assert.deepEqual(input.metadata, { kept: true });
});

test('samples without a label or of another size fail with a message and the stream goes on', async () => {
  const errors: SampleError[] = [];
  const out = await lastValueFrom(
    from([
      sample({ label: undefined, mask: mask() }),
      sample({ id: 't', source: { path: '/in/t.png' }, mask: makeImage(4, 3, 1, 'uint8') }),
      sample({ id: 'u', source: { path: '/in/u.png' } }),
      sample({ id: 'v', source: { path: '/in/v.png' }, mask: mask() }),
    ]).pipe(evaluate({}, { onSampleError: (e) => errors.push(e) }), toArray()),
  );
  assert.deepEqual(out.map((s) => s.id), ['v']);
  assert.match(errors[0].message, /^evaluate: \/in\/s\.png: no label to compare with/);
  assert.match(errors[1].message, /the label is 5x3, 1 channel, uint8 but the mask 4x3, 1 channel, uint8/);
  assert.match(errors[2].message, /no mask or probabilities to evaluate/);
});

test('without onSampleError a failing sample errors the stream', async () => {
  await assert.rejects(lastValueFrom(from([sample()]).pipe(evaluate({ from: 'mask' }))), /no mask to evaluate \(add a threshold step/);
});

test('bad parameters fail when the operator is created, with a did-you-mean', () => {
  assert.throws(() => evaluate({ connectivity: 6 } as never), (e: unknown) => e instanceof ConfigError && /connectivity: expected 4 or 8, got 6/.test(e.message));
  assert.throws(() => evaluate({ thresold: 0.5 } as never), /unknown key 'thresold'/);
  assert.throws(() => evaluate({ at: 2 }), /at: expected a number from 0 to 1, got 2/);
});

test('meanMetrics averages the records that evaluate attached', async () => {
  const out = await lastValueFrom(
    from([sample({ mask: mask() }), sample({ id: 'p', mask: mask(labelValues.map((v) => (v ? 1 : 0))) })]).pipe(evaluate(), toArray()),
  );
  const mean = meanMetrics(out.map(metricsOf));
  assert.equal(mean.pixelError, 1 / 30);
  assert.equal(mean.merges, 0.5);
});
