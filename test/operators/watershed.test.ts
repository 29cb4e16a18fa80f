import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom } from 'rxjs';
import { evaluate } from '../../operators/evaluate.js';
import { threshold } from '../../operators/threshold.js';
import { watershed } from '../../operators/watershed.js';
import { makeImage } from '../../src/image/image.js';
import { ConfigError } from '../../src/errors.js';
import type { Sample } from '../../src/sample.js';
import { pixels } from '../helpers/images.js';

// p(cell) of two cells (columns 0-2 and 7-9) whose membrane has a faint gap in row 2.
const rows = ['9990000999', '9990000999', '9996666999', '9990000999', '9990000999'];
const cell = rows.join('').split('').map((ch) => Number(ch) / 10 + 0.05);
// The truth: the same two cells, the gap being membrane.
const truth = rows.join('').split('').map((ch) => (ch === '9' ? 255 : 0));

const sample = (): Sample => {
  const p = new Float32Array(cell.length * 2);
  cell.forEach((c, i) => {
    p[2 * i] = 1 - c;
    p[2 * i + 1] = c;
  });
  return {
    id: 's',
    source: { path: '/in/s.png' },
    image: makeImage(10, 5, 1, 'uint8', new Uint8Array(50)),
    label: makeImage(10, 5, 1, 'uint8', Uint8Array.from(truth)),
    probabilities: makeImage(10, 5, 2, 'float32', p),
  };
};

test('watershed parts two cells that a threshold merges, in both the instances and the mask, and records the two objects', async () => {
  const s = await lastValueFrom(from([sample()]).pipe(watershed({ at: 0.5, seeds: 0.9 })));
  assert.equal(s.instances!.dtype, 'uint16');
  const ids = pixels(s.instances!);
  assert.deepEqual(ids.slice(20, 30), [1, 1, 1, 1, 0, 2, 2, 2, 2, 2], 'the bridge is cut once, by a 1 px line');
  assert.deepEqual(new Set(ids), new Set([0, 1, 2]));
  assert.deepEqual(pixels(s.mask!), ids.map((id) => (id ? 1 : 0)));
  assert.equal(s.metadata?.objects, 2);
});

test('evaluated against the truth, the watershed has no merge where the threshold has one', async () => {
  const plain = await lastValueFrom(from([sample()]).pipe(threshold({ at: 0.5 }), evaluate({})));
  const parted = await lastValueFrom(from([sample()]).pipe(watershed({ at: 0.5, seeds: 0.9 }), evaluate({})));
  const metrics = (s: Sample) => s.metadata!.metrics as { randError: number; predictedSegments: number };
  assert.equal(metrics(plain).predictedSegments, 1);
  assert.ok(metrics(plain).randError > 0.3);
  assert.equal(metrics(parted).predictedSegments, 2);
  assert.ok(metrics(parted).randError < 0.05, `Rand error ${metrics(parted).randError}`);
});

test('bad parameters fail when the operator is made, missing probabilities per sample', async () => {
  assert.throws(() => watershed({ at: 0.8, seeds: 0.6 }), (e: Error) => e instanceof ConfigError && /seeds \(0.6\) must be at least at \(0.8\)/.test(e.message));
  assert.throws(() => watershed({ seeds: 2 } as never), /seeds/);
  const bare = { ...sample(), probabilities: undefined };
  await assert.rejects(lastValueFrom(from([bare]).pipe(watershed({}))), /watershed.*no probabilities to segment/s);
  await assert.rejects(lastValueFrom(from([sample()]).pipe(watershed({ class: 3 }))), /class 3 does not exist/);
});
