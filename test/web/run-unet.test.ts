/**
 * The Quick start's steps in the page's worker on ONNX Runtime Web (wasm, and WebGPU on
 * the SwiftShader adapter headless Chromium has), against
 * `unetflow run` on ONNX Runtime: the same masks, probabilities within 1e-4. One slice
 * and no test-time augmentation, so that a busy machine runs it in minutes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { readImage } from '../../src/io/read.js';
import { tempDir } from '../helpers/files.js';
import { workerPage } from './worker-page.js';

const BIN = resolve('bin/unetflow.js');
const web = workerPage({ webgpu: true });
const { skip } = web;

const PIPELINE = (await readFile('pipelines/demo.yaml', 'utf8'))
  .replace('source: { files: ../fixtures/isbi2012/test }', 'source: { files: ../in }')
  .replace('tta: dihedral', 'tta: none')
  .replace('outputs: [mask, probabilities, overlay]', 'outputs: [mask, probabilities]');

for (const engine of ['wasm', 'webgpu'] as const) test(`the Quick start steps in the page on ${engine} give the CLI's mask and its probabilities within 1e-4`, { ...skip, timeout: 600_000 }, async () => {
  assert.match(PIPELINE, /files: \.\.\/in/);
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await mkdir(join(dir, 'pipelines'));
  await cp('models/isbi2012-em', join(dir, 'models/isbi2012-em'), { recursive: true });
  const slice = await readFile('fixtures/isbi2012/test/00.png');
  await writeFile(join(dir, 'in', '00.png'), slice);
  await writeFile(join(dir, 'pipelines', 'demo.yaml'), PIPELINE);
  const cli = spawnSync(process.execPath, [BIN, 'run', 'pipelines/demo.yaml', '--json', '--backend', 'onnxruntime'], { cwd: dir, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);

  const run = await web.runJob({ input: `unet-in-${engine}`, output: `unet-out-${engine}`, files: { '00.png': [...slice] }, name: 'demo.yaml', text: PIPELINE, engine });

  const types = run.events.map((e) => e.type);
  assert.deepEqual(types.filter((t) => t !== 'log'), ['started', 'backend', 'file-done', 'stats'], JSON.stringify(run.events.filter((e) => e.type !== 'started')));
  const backend = run.events.find((e) => e.type === 'backend');
  assert.equal(backend.name, engine);
  if (engine === 'webgpu') assert.equal(backend.adapter?.software, true, 'SwiftShader, said to be a software adapter');
  const mine = await tempDir();
  for (const name of ['00.mask.png', '00.probabilities.tif']) await writeFile(join(mine, name), Buffer.from(run.written[name]));
  assert.deepEqual((await readImage(join(mine, '00.mask.png'))).data, (await readImage(join(dir, 'out', '00.mask.png'))).data, 'the CLI\'s mask');
  const [p, q] = [(await readImage(join(mine, '00.probabilities.tif'))).data, (await readImage(join(dir, 'out', '00.probabilities.tif'))).data];
  assert.equal(p.length, q.length);
  let worst = 0;
  for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i] - q[i]));
  assert.ok(worst <= 1e-4, `probabilities differ by up to ${worst}`);
});
