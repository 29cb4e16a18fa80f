/**
 * `unetflow run --backend onnxruntime-webgpu` on a large image, through the binary: the
 * probabilities equal those of ONNX Runtime's CPU provider (which `auto` takes where
 * the only adapter is a software one) within 1e-4, and the `backend` events and the
 * summary name the provider and the adapter. In CI the adapter is Mesa's lavapipe, a
 * CPU Vulkan driver that costs 10-35 µs per input pixel whatever the network (a 2048²
 * image took 60-130 s on 2 shared cores), so the image is 1024² (four 572 px tiles in one
 * batch) and the network small (depth 2, 4 filters); the shipped model and a 64-filter
 * network are compared on slices in test/model/engines/onnxruntime-webgpu.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { defaultMetadata, saveModel } from '../../src/model/store.js';
import { UNet, unetConfig } from '../../src/model/network/unet.js';
import { tempDir } from '../helpers/files.js';
import { needsWebGpu, unavailable } from '../helpers/optional.js';

const BIN = resolve('bin/unetflow.js');
const SIDE = 1024;
const skip = unavailable('onnxruntime-node') ?? (await needsWebGpu()).skip;

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

async function project() {
  const dir = await tempDir('unetflow-ort-webgpu-');
  await mkdir(join(dir, 'in'));
  const data = Buffer.alloc(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) data[y * SIDE + x] = (Math.sin(x / 23) * Math.cos(y / 31) * 0.5 + 0.5) * 255;
  await sharp(data, { raw: { width: SIDE, height: SIDE, channels: 1 } }).toColourspace('b-w').png().toFile(join(dir, 'in', 'wave.png'));
  const config = unetConfig({ depth: 2, baseFilters: 4, classes: 2, inputChannels: 1, padding: 'valid', dropout: 0 });
  const net = UNet.create(config, 7);
  await saveModel(join(dir, 'model'), net, defaultMetadata(config));
  net.dispose();
  const steps = ['load: { channels: 1 }', 'mirror: { model: model }', 'tile: { model: model }', 'unet: { model: model, batchSize: 4 }', 'stitch: {}', 'save: { dir: out, outputs: [probabilities] }'];
  await writeFile(join(dir, 'p.yaml'), ['version: 1', 'name: ort-webgpu', 'source: { files: in }', 'steps:', ...steps.map((s) => `  - ${s}`), ''].join('\n'));
  return dir;
}

/** The first class's probabilities, as floats. */
async function probabilities(path: string): Promise<Float32Array> {
  const { data } = await sharp(path, { page: 0 }).extractChannel(0).raw({ depth: 'float' }).toBuffer({ resolveWithObject: true });
  return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
}

test('a 1024² image on --backend onnxruntime-webgpu equals the CPU provider within 1e-4, and the run names the provider and the adapter', { skip }, async () => {
  const dir = await project();
  const run = (backend: string, out: string) => cli(['run', join(dir, 'p.yaml'), '--json', '--backend', backend, '--set', `steps.5.save.dir=${out}`]);
  const [gpu, auto] = await Promise.all([run('onnxruntime-webgpu', 'gpu'), run('auto', 'auto')]);
  for (const r of [gpu, auto]) assert.equal(r.status, 0, r.stderr);
  const backend = (r: typeof gpu) => r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'backend');
  const stats = (r: typeof gpu) => JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!);
  const onGpu = backend(gpu);
  assert.equal(onGpu.name, 'onnxruntime');
  assert.equal(onGpu.provider, 'webgpu');
  assert.deepEqual(onGpu.skipped, []);
  assert.equal(typeof onGpu.adapter?.maxStorageBufferBindingSize, 'number');
  assert.match(stats(gpu).backend, /^onnxruntime \(onnxruntime-node, webgpu provider, \d+ workers?, .*adapter/);
  assert.match(gpu.stderr, /backend onnxruntime \(onnxruntime-node, webgpu provider/);
  const onAuto = backend(auto);
  if (onGpu.adapter.software) {
    // auto never takes a software adapter: it names it and runs on the CPU provider.
    assert.equal(onAuto.provider, 'cpu');
    assert.match(onAuto.skipped[0], /^onnxruntime-webgpu: software adapter \(.+\), not chosen automatically$/);
    assert.match(auto.stderr, /skipped onnxruntime-webgpu: software adapter/);
  }
  const [a, b] = await Promise.all([probabilities(join(dir, 'gpu', 'wave.probabilities.tif')), probabilities(join(dir, 'auto', 'wave.probabilities.tif'))]);
  assert.equal(a.length, SIDE * SIDE);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  assert.ok(diff < 1e-4, `max difference ${diff}`);
  // Not a constant map: the comparison says something.
  assert.ok(Math.max(...a.subarray(0, 65536)) - Math.min(...a.subarray(0, 65536)) > 1e-3);
});
