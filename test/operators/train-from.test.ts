/** `train: { from: PARENT, model: NEW }`: fine-tuning from another model's weights. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firstValueFrom, from, toArray } from 'rxjs';
import * as tf from '@tensorflow/tfjs';
import { quantile } from '../../src/image/convert.js';
import { makeImage } from '../../src/image/image.js';
import { useBackend } from '../../src/model/engines/choice.js';
import { defaultMetadata, loadModel, saveModel } from '../../src/model/store.js';
import { UNet } from '../../src/model/network/unet.js';
import type { RunEvent } from '../../src/events.js';
import type { Sample } from '../../src/sample.js';
import { checkTrain, train, type TrainParams } from '../../operators/train.js';
import { discBatch } from '../model/helpers.js';
import { tempDir, writePng } from '../helpers/files.js';
import { needs } from '../helpers/optional.js';
import { exportPackage } from '../../src/model/bioimageio/export.js';

/** 60 px training tiles with labels at the 20 px output of a depth-2 network; label values 0/1, or 0/1/2 with `classes` 3. */
function tiles(count: number, seed: number, classes = 2): Sample[] {
  const b = discBatch(count, 60, 20, seed);
  return Array.from({ length: count }, (_, i) => {
    const labels = b.labels.subarray(i * 400, (i + 1) * 400);
    // A third class: the discs' left halves.
    const values = Uint8Array.from(labels, (v, k) => (classes === 3 && v === 1 && k % 20 < 10 ? 2 : v));
    return {
      id: `t${i}`,
      source: { path: `t${i}.tif` },
      image: makeImage(60, 60, 1, 'float32', b.images.slice(i * 3600, (i + 1) * 3600)),
      label: makeImage(20, 20, 1, 'uint8', values),
    };
  });
}

/** A parent model folder: a depth-2, 4-filter network saved as a checkpoint would be. */
async function parentModel(dir: string): Promise<void> {
  const model = UNet.create({ depth: 2, baseFilters: 4 }, 11);
  await saveModel(dir, model, defaultMetadata(model.config, { normalisation: { method: 'none' }, classNames: ['bg', 'cell'], provenance: { step: 40, pipeline: 'p.yaml' } }));
  model.dispose();
}

async function trainFrom(params: Partial<TrainParams> & { model: string }, samples: Sample[], events: RunEvent[] = []): Promise<Sample[]> {
  const p = { optimizer: 'adam' as const, learningRate: 0.01, schedule: { kind: 'constant' as const }, batchSize: 2, workers: 1, ...params };
  return firstValueFrom(from(samples).pipe(train(p, { emit: (e) => events.push(e), seed: 5 }), toArray()));
}

/** Every file of a folder: name -> sha256 and modification time. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) {
    const path = join(dir, f);
    out[f] = `${createHash('sha256').update(await readFile(path)).digest('hex')} ${(await stat(path)).mtimeMs}`;
  }
  return out;
}

async function weightsOf(dir: string): Promise<Map<string, Float32Array>> {
  const { model } = await loadModel(dir);
  const out = new Map([...model.weights].map(([name, v]) => [name, Float32Array.from(v.dataSync())]));
  model.dispose();
  return out;
}

const identical = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Runs `body` on wasm with a parent model at `<dir>/parent` in a temporary folder, removed afterwards. */
async function withParent(body: (dir: string, parent: string) => Promise<void>): Promise<void> {
  await useBackend('wasm');
  const dir = await tempDir('unetflow-from-');
  try {
    const parent = join(dir, 'parent');
    await parentModel(parent);
    await body(dir, parent);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('training from a model writes a new folder, leaves every file of the source as it was, and records the parent in provenance', async () => {
  await withParent(async (dir, parent) => {
    const before = await snapshot(parent);
    const weightsFile = (await readdir(parent)).find((f) => f.startsWith('weights.'))!;
    const expectedHash = createHash('sha256').update(await readFile(join(parent, weightsFile))).digest('hex');
    const events: RunEvent[] = [];
    await trainFrom({ from: parent, model: join(dir, 'child') }, tiles(4, 3), events);
    assert.deepEqual(await snapshot(parent), before, 'no file of the parent changed, none added or removed');
    const child = await loadModel(join(dir, 'child'));
    child.model.dispose();
    const provenance = child.metadata.provenance as { step: number; parent: Record<string, unknown>; freeze: string };
    assert.equal(provenance.step, 2, 'the new model counts its own steps');
    assert.deepEqual(provenance.parent, { path: parent, name: 'parent', format: 'unetflow', sha256: expectedHash, step: 40, classes: 2, normalisation: { method: 'none' } });
    assert.equal(provenance.freeze, 'none');
    assert.deepEqual(child.metadata.classNames, ['bg', 'cell'], "the parent's class names");
    assert.deepEqual(child.metadata.normalisation, { method: 'none' }, "the parent's normalisation by default");
    assert.ok(events.some((e) => e.type === 'log' && e.message.includes(`sha256 ${expectedHash.slice(0, 16)}`)));
    assert.equal(events.filter((e) => e.type === 'train-step').length, 2);
  });
});

test('with the contracting path frozen its weights stay bit-identical, in one thread and over two workers, while the rest trains', async () => {
  await withParent(async (dir, parent) => {
    const start = await weightsOf(parent);
    for (const workers of [1, 2]) {
      const model = join(dir, `frozen-${workers}`);
      // Batches of 1 over 2 workers: each tile split into bands, the gradients summed.
      await trainFrom({ from: parent, model, freeze: 'encoder', workers, batchSize: workers === 2 ? 1 : 2, backend: 'wasm' }, tiles(4, 3));
      const after = await weightsOf(model);
      for (const [name, w] of after) {
        if (name.startsWith('down')) assert.ok(identical(w, start.get(name)!), `${name} is frozen (${workers} workers)`);
        else if (name.endsWith('/kernel')) assert.ok(!identical(w, start.get(name)!), `${name} trained (${workers} workers)`);
      }
    }
    // Without freezing, the same steps change the contracting path: the check above can fail.
    await trainFrom({ from: parent, model: join(dir, 'all') }, tiles(4, 3));
    assert.ok(!identical((await weightsOf(join(dir, 'all'))).get('down0/conv1/kernel')!, start.get('down0/conv1/kernel')!));
  });
});

test('a fine-tuned model resumes with the freeze it was made with, and refuses another', async () => {
  await withParent(async (dir, parent) => {
    const start = await weightsOf(parent);
    const model = join(dir, 'child');
    await trainFrom({ from: parent, model, freeze: 'encoder' }, tiles(2, 3));
    const events: RunEvent[] = [];
    await trainFrom({ from: parent, model }, tiles(2, 4), events);
    assert.deepEqual(events.filter((e) => e.type === 'train-step').map((e) => e.type === 'train-step' && e.step), [2]);
    assert.ok(identical((await weightsOf(model)).get('down0/conv1/kernel')!, start.get('down0/conv1/kernel')!), 'still frozen after resuming');
    await assert.rejects(trainFrom({ from: parent, model, freeze: 'none' }, tiles(2, 4)), /trained with freeze: encoder; resume it with the same/);
  });
});

test('a new number of classes replaces the final 1x1 layer and trains a 3-class model from a 2-class one', async () => {
  await withParent(async (dir, parent) => {
    const start = await weightsOf(parent);
    const model = join(dir, 'three');
    await trainFrom({ from: parent, model, architecture: { classes: 3 }, classNames: ['bg', 'left', 'right'], freeze: 'encoder' }, tiles(4, 3, 3));
    const child = await loadModel(model);
    try {
      assert.equal(child.model.config.classes, 3);
      assert.deepEqual(child.model.weights.get('head/kernel')!.shape, [1, 1, 4, 3]);
      assert.deepEqual(child.metadata.classNames, ['bg', 'left', 'right']);
      assert.equal((child.metadata.provenance as { headReplaced: boolean }).headReplaced, true);
      assert.ok(identical(Float32Array.from(child.model.weights.get('down1/conv2/kernel')!.dataSync()), start.get('down1/conv2/kernel')!));
      const probabilities = tf.tidy(() => tf.softmax(child.model.apply(tf.tensor4d(tiles(1, 9)[0].image.data as Float32Array, [1, 60, 60, 1]))).arraySync() as number[][][][]);
      assert.equal(probabilities[0][0][0].length, 3);
    } finally {
      child.model.dispose();
    }
  });
});

test('normalisation recompute stores a fixed range from the 1st and 99.8th percentiles of the first batch', async () => {
  await withParent(async (dir, parent) => {
    // uint16 tiles using only 0-235, as the DSB image does.
    const samples = tiles(4, 3).map((s) => ({ ...s, image: makeImage(60, 60, 1, 'uint16', Uint16Array.from(s.image.data, (v) => Math.max(0, Math.min(235, Math.round(v * 200))))) }));
    await trainFrom({ from: parent, model: join(dir, 'child'), normalisation: 'recompute' }, samples);
    const sorted = Float64Array.from([...samples[0].image.data, ...samples[1].image.data]).sort();
    const { metadata } = await loadModel(join(dir, 'child')).then((m) => (m.model.dispose(), m));
    assert.deepEqual(metadata.normalisation, { method: 'range', min: quantile(sorted, 0.01), max: quantile(sorted, 0.998) });
    assert.ok(metadata.inputIntensity && metadata.inputIntensity.high > 0.5, `trained intensities ${JSON.stringify(metadata.inputIntensity)}`);
  });
});

test('an overlapping source, a damaged bioimage.io package, a missing or damaged parent and options that need from are refused with the reason, before and when the run starts', async () => {
  await withParent(async (dir, parent) => {
    assert.throws(() => train({ from: parent, model: parent }), /overlap.*never into the one it starts from/);
    assert.throws(() => train({ from: parent, model: join(parent, 'sub') }), /overlap/);
    assert.throws(() => train({ from: parent, model: join(dir, 'c'), architecture: { baseFilters: 8 } }), /only classes may be given, not baseFilters/);
    assert.throws(() => train({ model: join(dir, 'c'), freeze: 'encoder' }), /freeze needs from/);
    assert.throws(() => train({ model: join(dir, 'c'), normalisation: 'parent' }), /'parent' needs from/);
    await mkdir(join(dir, 'package'));
    await writeFile(join(dir, 'package', 'rdf.yaml'), 'type: model\n');
    await assert.rejects(trainFrom({ from: join(dir, 'package'), model: join(dir, 'c') }, tiles(2, 3)), /from: .*package: cannot read the parent model: .*rdf\.yaml/);
    await assert.rejects(trainFrom({ from: join(dir, 'missing'), model: join(dir, 'c') }, tiles(2, 3)), /from: .*missing: not found/);
    // The same checks before a run (unetflow validate), with a damaged parent too.
    await assert.rejects(checkTrain({ from: join(dir, 'package'), model: join(dir, 'c') }), /from: .*package: .*rdf\.yaml/);
    await assert.rejects(checkTrain({ from: 'missing', model: 'c' }, { baseDir: dir }), /not found/);
    await checkTrain({ from: 'parent', model: 'c' }, { baseDir: dir });
    const weights = (await readdir(parent)).find((f) => f.startsWith('weights.'))!;
    await writeFile(join(parent, weights), 'truncated');
    await assert.rejects(checkTrain({ from: parent, model: 'c' }), new RegExp(`from: ${parent}: .*${weights}.*truncated`));
  });
});

test('a bioimage.io package unetflow exported is accepted as from, and provenance names it and its tensorflow_js weights', needs('onnxruntime-node'), async () => {
  await withParent(async (dir, parent) => {
    const metadata = JSON.parse(await readFile(join(parent, 'metadata.json'), 'utf8'));
    metadata.card = { authors: [{ name: 'A. Tester' }], cite: [{ text: 'Ronneberger et al. 2015', doi: '10.1007/978-3-319-24574-4_28' }], license: 'CC-BY-4.0' };
    await writeFile(join(parent, 'metadata.json'), JSON.stringify(metadata));
    await writePng(join(dir, 'test.png'), 3, 60);
    const pkg = join(dir, 'parent-package');
    await exportPackage(parent, pkg, { testImage: join(dir, 'test.png') });
    const archive = (await readdir(pkg)).find((f) => f.endsWith('.zip'))!;
    const expected = createHash('sha256').update(await readFile(join(pkg, archive))).digest('hex');
    await checkTrain({ from: pkg, model: join(dir, 'child') });
    await trainFrom({ from: pkg, model: join(dir, 'child'), freeze: 'encoder' }, tiles(2, 3));
    const child = await loadModel(join(dir, 'child'));
    const start = await weightsOf(parent);
    try {
      const record = (child.metadata.provenance as { parent: Record<string, unknown> }).parent;
      assert.deepEqual([record.format, record.name, record.sha256], ['bioimage.io', 'parent-package', expected]);
      assert.equal(JSON.parse(await readFile(join(dir, 'child', 'metadata.json'), 'utf8')).card, undefined, "the parent's card is not the new model's");
      assert.ok(identical(Float32Array.from(child.model.weights.get('down0/conv1/kernel')!.dataSync()), start.get('down0/conv1/kernel')!), "the package's weights are the parent's");
    } finally {
      child.model.dispose();
    }
  });
});
