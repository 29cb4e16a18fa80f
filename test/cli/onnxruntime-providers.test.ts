/**
 * A named ONNX Runtime provider that cannot load fails the run with the reason, through
 * the binary: here the CUDA provider, which the npm package does not carry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cudaMissing, nativeDir } from '../../src/model/engines/onnxruntime-providers.js';
import { tempDir, writePng } from '../helpers/files.js';
import { unavailable } from '../helpers/optional.js';

const BIN = resolve('bin/unetflow.js');
const skip = unavailable('onnxruntime-node') ?? (process.platform !== 'linux' ? 'the message names the Linux library' : cudaMissing(nativeDir()) ? false : "ONNX Runtime's CUDA provider is installed here");

test('--backend onnxruntime-cuda without the CUDA provider fails the run naming the missing library and how to get it', { skip }, async () => {
  const dir = await tempDir('unetflow-ort-cuda-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'a.png'), 1, 64);
  const model = resolve('models/isbi2012-em');
  const steps = ['load: { channels: 1 }', `mirror: { model: ${model} }`, `tile: { model: ${model} }`, `unet: { model: ${model} }`, 'stitch: {}', 'save: { dir: out, outputs: [probabilities] }'];
  await writeFile(join(dir, 'p.yaml'), ['version: 1', 'name: cuda', 'source: { files: in }', 'steps:', ...steps.map((s) => `  - ${s}`), ''].join('\n'));
  const r = spawnSync(process.execPath, [BIN, 'run', join(dir, 'p.yaml'), '--backend', 'onnxruntime-cuda'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /steps\[3\]\.unet: cannot run the model .*backend 'onnxruntime-cuda' is not available: not installed \(no libonnxruntime_providers_cuda\.so beside libonnxruntime: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`, needs CUDA 13 and cuDNN 9\)/);
});
