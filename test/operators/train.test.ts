import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, from, toArray } from 'rxjs';
import * as tf from '@tensorflow/tfjs';
import { makeImage } from '../../src/image/image.js';
import { useBackend } from '../../src/model/engines/choice.js';
import { loadModel } from '../../src/model/store.js';
import { predictProbabilities } from '../../src/model/inference/predict.js';
import type { UNet } from '../../src/model/network/unet.js';
import { writeImage } from '../../src/io/write.js';
import type { RunEvent } from '../../src/events.js';
import type { Sample } from '../../src/sample.js';
import { train } from '../../operators/train.js';
import { discBatch } from '../model/helpers.js';
import { summarise } from '../../src/image/intensity.js';

/** Training tiles: 60 px images, labels at the 20 px output size, weights at the tile size. */
function tiles(count: number, seed: number): Sample[] {
  const b = discBatch(count, 60, 20, seed);
  return Array.from({ length: count }, (_, i) => ({
    id: `t${i}`,
    source: { path: `t${i}.tif` },
    image: makeImage(60, 60, 1, 'float32', b.images.slice(i * 3600, (i + 1) * 3600)),
    label: makeImage(20, 20, 1, 'uint8', Uint8Array.from(b.labels.subarray(i * 400, (i + 1) * 400))),
    weights: makeImage(60, 60, 1, 'float32', new Float32Array(3600).fill(1)),
  }));
}

const params = (dir: string) => ({
  model: dir,
  architecture: { depth: 2, baseFilters: 4 },
  optimizer: 'adam' as const,
  learningRate: 0.01,
  batchSize: 2,
  checkpointEvery: 4,
  normalisation: 'none' as const,
});

test('train takes a step per batch, emits step and checkpoint events, and resumes from its checkpoint', async () => {
  await useBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-train-'));
  try {
    const events: RunEvent[] = [];
    const before = tf.memory().numTensors;
    const data = tiles(4, 3);
    const out = await firstValueFrom(from([...data, ...data, ...data]).pipe(train({ ...params(dir), workers: 1 }, { emit: (e) => events.push(e), seed: 2 }), toArray()));
    assert.equal(out.length, 12, 'samples pass through');
    assert.equal(tf.memory().numTensors, before, 'model and optimiser are freed at the end');
    const steps = events.filter((e) => e.type === 'train-step');
    assert.deepEqual(steps.map((e) => e.step), [1, 2, 3, 4, 5, 6]);
    assert.ok(steps.every((e) => e.type === 'train-step' && e.loss > 0 && e.learningRate === 0.01 && e.seconds >= 0));
    const first = (steps[0] as { loss: number }).loss;
    const last = (steps[5] as { loss: number }).loss;
    assert.ok(last < first, `loss ${first} -> ${last}`);
    assert.deepEqual(events.filter((e) => e.type === 'checkpoint').map((e) => e.type === 'checkpoint' && e.step), [4, 6]);

    const resumed: RunEvent[] = [];
    await firstValueFrom(from(tiles(2, 4)).pipe(train({ ...params(dir), workers: 1 }, { emit: (e) => resumed.push(e) }), toArray()));
    assert.deepEqual(resumed.filter((e) => e.type === 'train-step').map((e) => e.type === 'train-step' && e.step), [7]);
    const loaded = await loadModel(dir);
    assert.equal(loaded.metadata.provenance?.step, 7);
    assert.ok(loaded.optimizerState && loaded.optimizerState.length > 0);
    loaded.model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('training over two workers takes the same steps as in one thread, checkpoints and resume included', async () => {
  await useBackend('wasm');
  const dirs = [await mkdtemp(join(tmpdir(), 'unetflow-train-')), await mkdtemp(join(tmpdir(), 'unetflow-train-'))];
  try {
    const losses: number[][] = [];
    for (const [i, workers] of [1, 2].entries()) {
      const events: RunEvent[] = [];
      const emit = (e: RunEvent) => events.push(e);
      // Batches of 2 split by tile, then batches of 1 split into bands; the second run resumes.
      // On wasm's replica threads (ONNX Runtime threads each operator instead).
      await firstValueFrom(from(tiles(4, 3)).pipe(train({ ...params(dirs[i]), workers, backend: 'wasm' }, { emit, seed: 2 }), toArray()));
      await firstValueFrom(from(tiles(2, 4)).pipe(train({ ...params(dirs[i]), batchSize: 1, workers, backend: 'wasm' }, { emit, seed: 2 }), toArray()));
      losses.push(events.flatMap((e) => (e.type === 'train-step' ? [e.loss] : [])));
    }
    assert.equal(losses[1].length, 4);
    losses[1].forEach((l, k) => assert.ok(Math.abs(l - losses[0][k]) < 1e-4 * losses[0][k], `step ${k + 1}: ${l} vs ${losses[0][k]}`));
    const [a, b] = await Promise.all(dirs.map((d) => loadModel(d)));
    for (const [name, v] of a.model.weights) {
      const x = v.dataSync();
      const y = b.model.weights.get(name)!.dataSync();
      for (let k = 0; k < x.length; k++) assert.ok(Math.abs(x[k] - y[k]) < 1e-4, `${name}[${k}]: ${x[k]} vs ${y[k]}`);
    }
    a.model.dispose();
    b.model.dispose();
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
});

/**
 * Held-out scores computed here, not by the train operator: each whole image predicted in one
 * pass of the network (mirrored by the margin, numpy's 'reflect'), then argmax, pixel error,
 * foreground IoU and the mean -log p(true class), averaged over the images.
 */
async function scoreDirectly(model: UNet, images: { data: Float32Array; labels: Int32Array }[], size: number) {
  const margin = 20; // depth 2: (60 - 20) / 2
  const input = size + 2 * margin;
  assert.equal(model.sizeMap(input).output, size, 'one pass covers the whole image');
  const reflect = (i: number) => (i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i);
  let pixelError = 0;
  let iou = 0;
  let loss = 0;
  for (const { data, labels } of images) {
    const padded = Float32Array.from({ length: input * input }, (_, i) => data[reflect(Math.floor(i / input) - margin) * size + reflect((i % input) - margin)]);
    const p = await predictProbabilities(model, padded, 1, input);
    let wrong = 0;
    let both = 0;
    let either = 0;
    let nll = 0;
    for (let i = 0; i < labels.length; i++) {
      const predicted = p[2 * i + 1] > p[2 * i] ? 1 : 0;
      if (predicted !== labels[i]) wrong++;
      if (predicted && labels[i]) both++;
      if (predicted || labels[i]) either++;
      nll -= Math.log(p[2 * i + labels[i]]);
    }
    pixelError += wrong / labels.length / images.length;
    iou += both / either / images.length;
    loss += nll / labels.length / images.length;
  }
  return { pixelError, iou, loss };
}

test('validation every N steps emits the pixel error, IoU and loss of the held-out images under the current weights', async () => {
  await useBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-train-'));
  try {
    await mkdir(join(dir, 'val', 'images'), { recursive: true });
    await mkdir(join(dir, 'val', 'labels'), { recursive: true });
    // 36 px images: output tiles of 20 at 0 and 16, a multiple of the pooling factor 4, so
    // the operator's tiled prediction and one pass over the whole image compute the same.
    const size = 36;
    const b = discBatch(2, size, size, 7);
    const held: { data: Float32Array; labels: Int32Array }[] = [];
    for (let i = 0; i < 2; i++) {
      const data = b.images.slice(i * size * size, (i + 1) * size * size);
      const labels = b.labels.slice(i * size * size, (i + 1) * size * size);
      held.push({ data, labels });
      // float32, at the training tiles' scale (normalisation 'none').
      await writeImage(join(dir, 'val', 'images', `v${i}.tif`), makeImage(size, size, 1, 'float32', data), 'tiff');
      await writeImage(join(dir, 'val', 'labels', `v${i}.png`), makeImage(size, size, 1, 'uint8', Uint8Array.from(labels, (v) => v * 255)), 'png');
    }
    const validation = { images: join(dir, 'val', 'images'), labels: join(dir, 'val', 'labels'), every: 2 };
    const model = join(dir, 'model');
    const reported: Extract<RunEvent, { type: 'validation' }>[] = [];
    // Two runs of two steps (the second resumes): the checkpoint each leaves holds the weights
    // its validation used. This learning rate gives both a nontrivial IoU (0.26, then 0.11).
    for (const seed of [3, 4]) {
      const events: RunEvent[] = [];
      const run = train({ ...params(model), learningRate: 0.003, batchSize: 1, workers: 1, validation }, { emit: (e) => events.push(e) });
      await firstValueFrom(from(tiles(2, seed)).pipe(run, toArray()));
      const v = events.filter((e) => e.type === 'validation');
      assert.equal(v.length, 1);
      const e = v[0];
      const loaded = await loadModel(model);
      const expected = await scoreDirectly(loaded.model, held, size);
      loaded.model.dispose();
      assert.equal(e.step, loaded.metadata.provenance?.step);
      // Equal when measured; the bounds allow the rounding of differently batched convolutions
      // (a pixel flipping class is 1/2592 of the mean pixel error).
      assert.ok(Math.abs(e.pixelError - expected.pixelError) <= 1 / (2 * size * size), `step ${e.step} pixel error ${e.pixelError} vs ${expected.pixelError}`);
      assert.ok(Math.abs(e.iou - expected.iou) < 1e-3, `step ${e.step} IoU ${e.iou} vs ${expected.iou}`);
      assert.ok(Math.abs(e.loss! - expected.loss) < 1e-4 * expected.loss, `step ${e.step} loss ${e.loss} vs ${expected.loss}`);
      reported.push(e);
    }
    assert.deepEqual(reported.map((e) => e.step), [2, 4]);
    assert.notEqual(reported[0].loss, reported[1].loss, 'the weights changed between the validations');
    assert.throws(() => train({ model: 'm', validation: { images: 'a', labels: 'b' } } as never), /every/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the saved model records the intensities of the network input it was trained on', async () => {
  await useBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-train-'));
  try {
    const data = tiles(4, 5);
    await firstValueFrom(from(data).pipe(train({ ...params(dir), workers: 1 }), toArray()));
    const recorded = (await loadModel(dir)).metadata;
    // The reference: every input value of the four tiles, summarised at once ('none' normalisation keeps them).
    const all = new Float32Array(data.flatMap((t) => Array.from(t.image.data)));
    const expected = summarise(all);
    const got = recorded.inputIntensity!;
    assert.deepEqual([got.low, got.high, got.values], [expected.low, expected.high, 4 * 3600]);
    assert.ok(Math.abs(got.mean - expected.mean) < 1e-9, `mean ${got.mean}, expected ${expected.mean}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a tile without a label fails alone', async () => {
  await useBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-train-'));
  try {
    const [a, b] = tiles(2, 5);
    const errors: Error[] = [];
    const { label: _label, ...unlabelled } = b;
    const out = await firstValueFrom(from([a, unlabelled]).pipe(train({ ...params(dir), batchSize: 1, workers: 1 }, { onSampleError: (e) => errors.push(e) }), toArray()));
    assert.deepEqual(out.map((s) => s.id), ['t0']);
    assert.match(errors[0].message, /training needs a label/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad parameters fail when the operator is created', () => {
  assert.throws(() => train({ model: 'm', optimizer: 'rmsprop' } as never), /optimizer/);
  assert.throws(() => train({ model: 'm', schedule: { kind: 'step', every: 0, factor: 0.5 } } as never), /schedule/);
});
