import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../../src/model/engines/choice.js';
import { predictProbabilities } from '../../../src/model/inference/predict.js';
import { Trainer, type TrainerOptions } from '../../../src/model/training/trainer.js';
import { UNet } from '../../../src/model/network/unet.js';
import { ReplicaError, ReplicaPool } from '../../../src/model/threads/pool.js';
import { discBatch } from '../helpers.js';

const config = { depth: 2, baseFilters: 4, classes: 2, inputChannels: 1, padding: 'valid', dropout: 0.5 } as const;

function assertClose(a: Float32Array, b: Float32Array, tolerance: number, what: string): void {
  assert.equal(a.length, b.length, what);
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tolerance * (scale + 1e-3), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test('a two-worker training step equals a single-worker step, dropout included', async () => {
  await useBackend('wasm');
  const net = UNet.create(config, 4);
  const options: TrainerOptions = { optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.99 }, seed: 3 };
  const trainer = new Trainer(net, options);
  const pool = new ReplicaPool({ workers: 2, engine: 'wasm', config: net.config, weights: trainer.weightArrays(), trainer: options });
  try {
    const batch = discBatch(3, 60, 20, 8);
    for (let step = 0; step < 2; step++) {
      const single = await trainer.trainStep(batch);
      const multi = await pool.trainStep(batch);
      assert.equal(multi.step, single.step);
      assert.ok(Math.abs(multi.loss - single.loss) < 1e-5 * single.loss, `loss ${multi.loss} vs ${single.loss}`);
    }
    const weights = await pool.weights();
    for (const [name, w] of trainer.weightArrays()) assertClose(weights.get(name)!, w, 1e-4, name);
  } finally {
    await pool.close();
    trainer.dispose();
    net.dispose();
  }
});

test('tiles spread over two workers are predicted as in one place', async () => {
  await useBackend('wasm');
  const net = UNet.create(config, 6);
  const pool = new ReplicaPool({ workers: 2, engine: 'wasm', config: net.config, weights: new Map([...net.weights].map(([n, v]) => [n, v.dataSync() as Float32Array])) });
  try {
    const { images } = discBatch(3, 44, 4, 2);
    assertClose(await pool.predict(images, 3, 44, 'flips'), await predictProbabilities(net, images, 3, 44, 'flips'), 1e-5, 'probabilities');
  } finally {
    await pool.close();
    net.dispose();
  }
});

test('a single tile split into bands over two workers trains as in one place, dropout included', async () => {
  await useBackend('wasm');
  for (const tileParts of [1, 3]) {
    const net = UNet.create(config, 4);
    const options: TrainerOptions = { optimizer: { kind: 'adam', learningRate: 0.01 }, seed: 5 };
    const trainer = new Trainer(net, options);
    const pool = new ReplicaPool({ workers: 2, engine: 'wasm', config: net.config, weights: trainer.weightArrays(), trainer: options, tileParts });
    try {
      const batch = discBatch(1, 76, 36, 9);
      for (let step = 0; step < 2; step++) {
        const single = await trainer.trainStep(batch);
        const multi = await pool.trainStep(batch);
        assert.ok(Math.abs(multi.loss - single.loss) < 1e-5 * single.loss, `${tileParts} parts: loss ${multi.loss} vs ${single.loss}`);
      }
      const weights = await pool.weights();
      for (const [name, w] of trainer.weightArrays()) assertClose(weights.get(name)!, w, 1e-4, `${tileParts} parts: ${name}`);
      const state = await pool.optimizerState();
      const own = await trainer.optimizerState();
      assert.equal(state.length, own.length);
      state.forEach((s, i) => assertClose(s.data, own[i].data, 1e-4, `optimiser state ${i}`));
    } finally {
      await pool.close();
      trainer.dispose();
      net.dispose();
    }
  }
});

test('a single tile split into bands over two workers is predicted as in one place', async () => {
  await useBackend('wasm');
  const net = UNet.create(config, 6);
  const pool = new ReplicaPool({ workers: 2, engine: 'wasm', config: net.config, weights: new Map([...net.weights].map(([n, v]) => [n, v.dataSync() as Float32Array])) });
  try {
    const { images } = discBatch(1, 76, 36, 2);
    assertClose(await pool.predict(images, 1, 76), await predictProbabilities(net, images, 1, 76), 1e-5, 'probabilities');
    assert.equal(await pool.backend(), 'wasm');
  } finally {
    await pool.close();
    net.dispose();
  }
});

test('a worker whose wasm runtime aborts fails that request in one line, keeps the detail off the terminal, and is replaced with the same weights', async () => {
  await useBackend('wasm');
  const net = UNet.create(config, 6);
  const pool = new ReplicaPool({ workers: 2, engine: 'wasm', config: net.config, weights: new Map([...net.weights].map(([n, v]) => [n, v.dataSync() as Float32Array])) });
  const printed: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    printed.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    const { images } = discBatch(4, 44, 4, 2);
    const expected = await predictProbabilities(net, images, 4, 44, 'flips');
    // The abort goes to worker 0 first; the batch's share for worker 0 waits behind it.
    const call = (pool as unknown as { call(worker: number, request: object): Promise<unknown> }).call.bind(pool);
    const [aborted, predicted] = await Promise.allSettled([call(0, { kind: 'abort' }), pool.predict(images, 4, 44, 'flips')]);
    assert.equal(aborted.status, 'rejected');
    const error = (aborted as PromiseRejectedResult).reason as ReplicaError;
    assert.ok(error instanceof ReplicaError);
    assert.equal(error.message, 'worker 1: RuntimeError: Aborted(); its engine stopped and the worker was restarted');
    assert.match(error.detail, /^RuntimeError: Aborted\(\)[^]*\n    at [^]*\nAborted\(\)$/);
    assert.equal(predicted.status, 'fulfilled', 'the request queued behind the abort is served by the replacement');
    assertClose((predicted as PromiseFulfilledResult<Float32Array>).value, expected, 1e-5, 'probabilities');
    assertClose(await pool.predict(images, 4, 44, 'flips'), expected, 1e-5, 'probabilities afterwards');
    await new Promise((r) => setTimeout(r, 50)); // worker output reaches the parent asynchronously
    assert.deepEqual(printed.filter((s) => /Aborted|wasm:\/\//.test(s)), []);
  } finally {
    process.stderr.write = write;
    await pool.close();
    net.dispose();
  }
});

test('a lone tile\'s augmentation passes are shared by the workers and averaged as in one place', async () => {
  await useBackend('wasm');
  const net = UNet.create(config, 6);
  const pool = new ReplicaPool({ workers: 2, engine: 'wasm', config: net.config, weights: new Map([...net.weights].map(([n, v]) => [n, v.dataSync() as Float32Array])) });
  try {
    const { images } = discBatch(1, 44, 4, 3);
    for (const tta of ['flips', 'dihedral'] as const) {
      assertClose(await pool.predict(images, 1, 44, tta), await predictProbabilities(net, images, 1, 44, tta), 1e-5, tta);
    }
  } finally {
    await pool.close();
    net.dispose();
  }
});
