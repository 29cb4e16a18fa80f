import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/model/engines/choice.js';
import { checkModelDir, defaultMetadata, geometryOfModel, loadModel, readMetadata, saveModel } from '../../src/model/store.js';
import { Trainer } from '../../src/model/training/trainer.js';
import { UNet } from '../../src/model/network/unet.js';
import { discBatch } from './helpers.js';

const tiny = { depth: 2, baseFilters: 4, classes: 2, inputChannels: 1 } as const;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-store-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('save then load gives identical predictions, metadata and optimiser state', async () => {
  await useBackend('wasm');
  await withDir(async (dir) => {
    const net = UNet.create(tiny, 11);
    const trainer = new Trainer(net, { optimizer: { kind: 'sgd', learningRate: 0.01 } });
    await trainer.trainStep(discBatch(1, 44, 4, 2)); // move off the initial weights and create momentum
    const metadata = defaultMetadata(net.config, { provenance: { step: trainer.step } });
    await saveModel(join(dir, 'm'), net, metadata, await trainer.optimizerState());
    const loaded = await loadModel(join(dir, 'm'));
    const x = discBatch(2, 60, 20, 3).images;
    const predict = (m: UNet) => tf.tidy(() => m.apply(tf.tensor4d(x, [2, 60, 60, 1])).dataSync());
    assert.deepEqual(predict(loaded.model), predict(net));
    assert.deepEqual(loaded.metadata.provenance, { step: 1 });
    assert.deepEqual(loaded.metadata.classNames, ['background', 'foreground']);
    assert.deepEqual(loaded.metadata.tile, { input: 572, output: 532 });
    assert.deepEqual(loaded.optimizerState, await trainer.optimizerState());
    for (const d of [loaded.model, net, trainer]) d.dispose();
  });
});

test('a float16 model is half the size and predicts within float16 rounding of the float32 one', async () => {
  await useBackend('wasm');
  await withDir(async (dir) => {
    const net = UNet.create(tiny, 12);
    await saveModel(join(dir, 'f32'), net, defaultMetadata(net.config));
    await saveModel(join(dir, 'f16'), net, defaultMetadata(net.config), undefined, { precision: 'float16' });
    const size = async (d: string) => {
      const { stat } = await import('node:fs/promises');
      const bin = (await readdir(join(dir, d))).find((f) => f.startsWith('weights.'))!;
      return (await stat(join(dir, d, bin))).size;
    };
    assert.equal(await size('f16'), (await size('f32')) / 2);
    const half = await loadModel(join(dir, 'f16'));
    const x = discBatch(1, 60, 20, 4).images;
    const predict = (m: UNet) => tf.tidy(() => m.apply(tf.tensor4d(x, [1, 60, 60, 1])).dataSync());
    const [a, b] = [predict(net), predict(half.model)];
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst > 0 && worst < 5e-3, `largest probability difference ${worst}`);
    for (const d of [half.model, net]) d.dispose();
  });
});

test('saving again replaces the weights and leaves no stale or temporary files', async () => {
  await useBackend('wasm');
  await withDir(async (dir) => {
    const a = UNet.create(tiny, 1);
    const b = UNet.create(tiny, 2);
    await saveModel(dir, a, defaultMetadata(a.config));
    await saveModel(dir, b, defaultMetadata(b.config));
    const files = (await readdir(dir)).sort();
    assert.equal(files.length, 3, files.join(', '));
    assert.match(files.join(' '), /^metadata\.json model\.json weights\.[0-9a-f]{16}\.bin$/);
    const loaded = await loadModel(dir);
    const k = 'head/kernel';
    assert.deepEqual(loaded.model.weights.get(k)!.dataSync(), b.weights.get(k)!.dataSync());
    for (const d of [loaded.model, a, b]) d.dispose();
  });
});

test('the geometry of a stored model is its tile, for valid and same padding', async () => {
  await useBackend('wasm');
  await withDir(async (dir) => {
    const valid = UNet.create(tiny, 1);
    await saveModel(join(dir, 'v'), valid, defaultMetadata(valid.config, { tile: { input: 60, output: 20 } }));
    assert.deepEqual(await geometryOfModel(join(dir, 'v')), { kind: 'valid', input: 60, output: 20 });
    const same = UNet.create({ ...tiny, padding: 'same' }, 1);
    await saveModel(join(dir, 's'), same, defaultMetadata(same.config, { tile: { input: 64, output: 64 } }));
    assert.deepEqual(await geometryOfModel(join(dir, 's')), { kind: 'same', tile: 64, overlap: 16, window: 'gaussian' });
    await assert.rejects(saveModel(join(dir, 'x'), valid, defaultMetadata(valid.config, { tile: { input: 61, output: 21 } })), /nearest valid/);
    valid.dispose();
    same.dispose();
  });
});

test('a folder that is not a model is refused with the file named', async () => {
  await withDir(async (dir) => {
    await assert.rejects(loadModel(dir), /model\.json.*is this a unetflow model directory/);
    await writeFile(join(dir, 'model.json'), '{"format": "keras"}');
    await assert.rejects(loadModel(dir), /model\.json: not a unetflow model file/);
  });
});

/** A saved tiny model's folder and its weights file. */
async function savedModel(dir: string): Promise<{ model: string; weights: string; bytes: Buffer }> {
  const net = UNet.create(tiny, 3);
  const model = join(dir, 'm');
  await saveModel(model, net, defaultMetadata(net.config));
  net.dispose();
  const name = (await readdir(model)).find((f) => f.startsWith('weights.'))!;
  const weights = join(model, name);
  return { model, weights, bytes: await readFile(weights) };
}

test('weights whose bytes do not match the checksum in their name are refused, naming the file', async () => {
  await useBackend('wasm');
  await withDir(async (dir) => {
    const { model, weights, bytes } = await savedModel(dir);
    const corrupt = Buffer.from(bytes);
    corrupt.writeFloatLE(1234.5, 400); // one weight changed, the size kept
    await writeFile(weights, corrupt);
    const expected = new RegExp(`${weights.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the file is corrupt: its sha256 begins [0-9a-f]{16}, its name says [0-9a-f]{16}`);
    await assert.rejects(loadModel(model), expected);
    await assert.rejects(checkModelDir(model), expected);
  });
});

test('a truncated weights file is refused with the file and the size it should have', async () => {
  await useBackend('wasm');
  await withDir(async (dir) => {
    const { model, weights, bytes } = await savedModel(dir);
    await writeFile(weights, bytes.subarray(0, 1000));
    const expected = new RegExp(`weights\\.[0-9a-f]{16}\\.bin: the file has 1,000 bytes, model\\.json's manifest needs ${bytes.length.toLocaleString('en-US')}: it is truncated or was replaced`);
    await assert.rejects(loadModel(model), expected);
    await assert.rejects(checkModelDir(model), expected);
  });
});

test('checkModelDir accepts a whole model folder and names what is missing or wrong', async () => {
  await withDir(async (dir) => {
    const { model, weights } = await savedModel(dir);
    await checkModelDir(model);
    await checkModelDir('models/isbi2012-em');
    const metadata = await readFile(join(model, 'metadata.json'), 'utf8');
    await writeFile(join(model, 'metadata.json'), metadata.replace('"classNames"', '"classNamez"'));
    await assert.rejects(checkModelDir(model), /metadata\.json: not a unetflow model file\n.*classNames/);
    await writeFile(join(model, 'metadata.json'), metadata);
    await rm(weights);
    await assert.rejects(checkModelDir(model), /weights\.[0-9a-f]{16}\.bin: missing: model\.json lists it — copy the whole model folder again/);
    await rm(join(model, 'model.json'));
    await assert.rejects(checkModelDir(model), /model\.json.*is this a unetflow model directory/);
    await assert.rejects(checkModelDir(join(dir, 'nowhere')), /nowhere.*model\.json/);
  });
});

test('input intensity statistics round-trip through metadata.json', async () => {
  await useBackend('wasm');
  await withDir(async (dir) => {
    const net = UNet.create(tiny, 4);
    const inputIntensity = { low: 0.1, high: 0.9, mean: 0.45, values: 1000 };
    await saveModel(dir, net, defaultMetadata(net.config, { inputIntensity }));
    assert.deepEqual((await readMetadata(dir)).inputIntensity, inputIntensity);
    net.dispose();
  });
});
