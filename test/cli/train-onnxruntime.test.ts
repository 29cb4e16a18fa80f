/**
 * Training on ONNX Runtime through the binary: a small network trained on crops of the
 * nuclei fixture under `auto` runs on ONNX Runtime and says so, checkpoints, resumes,
 * fine-tunes with a frozen encoder, stops cleanly on Ctrl-C with a checkpoint of the
 * last step, and the model it writes predicts alike on ONNX Runtime and on tfjs-wasm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crop } from '../../src/kernels/mirror.js';
import { readImage } from '../../src/io/read.js';
import { writeImage } from '../../src/io/write.js';
import { needs } from '../helpers/optional.js';
import { tempDir } from '../helpers/files.js';

const BIN = resolve('bin/unetflow.js');

type Event = { type: string; [key: string]: unknown };

function run(pipeline: string, ...args: string[]): { status: number | null; events: Event[]; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'run', pipeline, '--json', ...args], { encoding: 'utf8' });
  return { status: r.status, events: r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event), stderr: r.stderr };
}

const trainPipeline = (dir: string, train: string, count: number) =>
  [
    'version: 1',
    'name: tiny-train',
    'seed: 5',
    'source: { pairs: { images: images, labels: labels } }',
    'steps:',
    '  - load: { channels: 1 }',
    '  - weight-map: { input: instances, w0: 10, sigma: 5 }',
    `  - random-tiles: { input: 92, output: 52, count: ${count}, foreground: 0.5 }`,
    `  - train: ${train}`,
    '',
  ].join('\n');

async function weights(model: string): Promise<Map<string, Float32Array>> {
  const manifest = JSON.parse(await readFile(join(model, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[] };
  const out = new Map<string, Float32Array>();
  for (const group of manifest.weightsManifest) {
    const bytes = Buffer.concat(await Promise.all(group.paths.map((p) => readFile(join(model, p)))));
    const all = new Float32Array(Uint8Array.from(bytes).buffer);
    let offset = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      out.set(w.name, all.slice(offset, offset + n));
      offset += n;
    }
  }
  return out;
}

test('a train step under auto runs on ONNX Runtime: it checkpoints, resumes, fine-tunes with a frozen encoder, and its model predicts alike on ONNX Runtime and wasm', { ...needs('onnxruntime-node'), timeout: 300_000 }, async () => {
  const dir = await tempDir('unetflow-train-ort-');
  try {
    for (const [from, to] of [['fixtures/dsb2018-nuclei/images/nuclei.tif', 'images'], ['fixtures/dsb2018-nuclei/labels/nuclei.tif', 'labels']]) {
      await mkdir(join(dir, to));
      await writeImage(join(dir, to, 'crop.tif'), crop(await readImage(from), { x: 150, y: 150, width: 120, height: 120 }), 'tiff');
    }
    const train = '{ model: model, architecture: { depth: 2, baseFilters: 4 }, learningRate: 0.001, batchSize: 1, checkpointEvery: 2, workers: 1 }';
    await writeFile(join(dir, 'train.yaml'), trainPipeline(dir, train, 3));
    const first = run(join(dir, 'train.yaml'));
    assert.equal(first.status, 0, first.stderr);
    const [backend] = first.events.filter((e) => e.type === 'backend');
    assert.equal(backend.name, 'onnxruntime', JSON.stringify(backend));
    assert.equal(backend.package, 'onnxruntime-node');
    assert.deepEqual(first.events.filter((e) => e.type === 'train-step').map((e) => e.step), [1, 2, 3]);
    assert.ok(first.events.every((e) => e.type !== 'train-step' || (Number.isFinite(e.loss) && (e.loss as number) > 0)));
    assert.deepEqual(first.events.filter((e) => e.type === 'checkpoint').map((e) => e.step), [2, 3]);
    const afterFirst = await weights(join(dir, 'model'));

    const resumed = run(join(dir, 'train.yaml'));
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(resumed.events.filter((e) => e.type === 'train-step').map((e) => e.step), [4, 5, 6]);
    const meta = JSON.parse(await readFile(join(dir, 'model', 'metadata.json'), 'utf8')) as { provenance: { backend: string; step: number } };
    assert.deepEqual([meta.provenance.backend, meta.provenance.step], ['onnxruntime-node', 6]);

    await writeFile(join(dir, 'finetune.yaml'), trainPipeline(dir, '{ from: model, model: tuned, freeze: encoder, batchSize: 1, workers: 1 }', 2));
    const tuned = run(join(dir, 'finetune.yaml'));
    assert.equal(tuned.status, 0, tuned.stderr);
    assert.equal(tuned.events.find((e) => e.type === 'backend')?.name, 'onnxruntime');
    const parent = await weights(join(dir, 'model'));
    const child = await weights(join(dir, 'tuned'));
    assert.equal([...child.keys()].filter((name) => name.startsWith('down')).length, 12, 'three levels of two convolutions, kernel and bias');
    for (const [name, w] of child) {
      if (name.startsWith('down')) assert.deepEqual(w, parent.get(name), `${name} is frozen`);
      else if (name.endsWith('/kernel')) assert.notDeepEqual(w, parent.get(name), `${name} trained`);
    }
    assert.notDeepEqual(parent.get('up0/conv1/kernel'), afterFirst.get('up0/conv1/kernel'), 'the resumed run trained on');

    await writeFile(
      join(dir, 'predict.yaml'),
      ['version: 1', 'name: tiny-predict', 'source: { files: images }', 'steps:', '  - load: { channels: 1 }', '  - mirror: { model: model }', '  - tile: { model: model }', '  - unet: { model: model }', '  - stitch: {}', '  - save: { dir: out-BACKEND, outputs: [probabilities] }', ''].join('\n'),
    );
    const maps: Float32Array[] = [];
    for (const engine of ['onnxruntime', 'wasm']) {
      await writeFile(join(dir, `predict-${engine}.yaml`), (await readFile(join(dir, 'predict.yaml'), 'utf8')).replace('BACKEND', engine));
      const r = run(join(dir, `predict-${engine}.yaml`), '--backend', engine);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.events.find((e) => e.type === 'backend')?.name, engine);
      const image = await readImage(join(dir, `out-${engine}`, 'crop.probabilities.tif'));
      maps.push(Float32Array.from(image.data as ArrayLike<number>));
    }
    assert.equal(maps[0].length, maps[1].length);
    let d = 0;
    for (let i = 0; i < maps[0].length; i++) d = Math.max(d, Math.abs(maps[0][i] - maps[1][i]));
    assert.ok(d < 1e-4, `probabilities differ by ${d} between ONNX Runtime and wasm`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Ctrl-C during training on ONNX Runtime stops within a step and leaves a checkpoint of the last step taken', { ...needs('onnxruntime-node'), timeout: 300_000 }, async () => {
  const dir = await tempDir('unetflow-train-ort-int-');
  try {
    for (const [from, to] of [['fixtures/dsb2018-nuclei/images/nuclei.tif', 'images'], ['fixtures/dsb2018-nuclei/labels/nuclei.tif', 'labels']]) {
      await mkdir(join(dir, to));
      await writeImage(join(dir, to, 'crop.tif'), crop(await readImage(from), { x: 150, y: 150, width: 120, height: 120 }), 'tiff');
    }
    await writeFile(join(dir, 'train.yaml'), trainPipeline(dir, '{ model: model, architecture: { depth: 2, baseFilters: 4 }, batchSize: 1, checkpointEvery: 1000, workers: 1 }', 5000));
    const child = spawn(process.execPath, [BIN, 'run', join(dir, 'train.yaml'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await new Promise<void>((ready) => {
      const look = () => (/"type":"train-step"/.test(out) ? ready() : setTimeout(look, 50));
      look();
    });
    child.kill('SIGINT');
    assert.equal(await exit, 0, err);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as Event);
    assert.equal(events.find((e) => e.type === 'backend')?.name, 'onnxruntime');
    const steps = events.filter((e) => e.type === 'train-step').map((e) => e.step as number);
    assert.ok(steps.length < 5000, 'it stopped early');
    assert.deepEqual(events.filter((e) => e.type === 'checkpoint').map((e) => e.step), [steps.at(-1)]);
    const stored = await weights(join(dir, 'model'));
    assert.ok(stored.size > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
