/**
 * The Quick start job in the page, on the bundled slices given as an OPFS folder, on wasm,
 * and on WebGPU (SwiftShader here): masks identical to the CLI's, probabilities within
 * 1e-4 of the CLI's ONNX Runtime run of the same pipeline on the same files.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readImage } from '../../src/io/read.js';
import { tempDir } from '../helpers/files.js';
import { ended, needsBuiltApp, onePassDemo, openAppPage, outputBytes, start, until, useFolders } from './app-page.js';

const SLICES = resolve('fixtures/isbi2012/test');
const BIN = resolve('bin/unetflow.js');
const MODEL = resolve('models/isbi2012-em');

// On WebGPU (SwiftShader here, a CPU) the test runs the demo's steps with one pass per
// tile on one slice (onePassDemo), against the CLI on the same pipeline and slice.

interface Case {
  readonly engine: 'wasm' | 'webgpu';
  readonly slices: readonly string[];
  /** The pipeline the page runs: the Quick start, or a file given to the page. */
  readonly pipeline?: string;
  /** The CLI's run of the same job: its output folder. */
  cliOut: string;
}

const CASES: Case[] = [
  { engine: 'wasm', slices: ['00.png', '01.png', '02.png'], cliOut: '' },
  { engine: 'webgpu', slices: ['00.png'], pipeline: onePassDemo('../models/isbi2012-em'), cliOut: '' },
];

before(async () => {
  if (needsBuiltApp().skip) return;
  for (const c of CASES) {
    const dir = await tempDir(`unetflow-page-demo-cli-${c.engine}-`);
    c.cliOut = join(dir, 'out');
    let args: string[];
    if (c.pipeline) {
      await mkdir(join(dir, 'in'));
      for (const name of c.slices) await copyFile(join(SLICES, name), join(dir, 'in', name));
      await writeFile(join(dir, 'p.yaml'), onePassDemo(MODEL));
      args = ['run', join(dir, 'p.yaml')];
    } else args = ['run', 'pipelines/demo.yaml', '--set', `steps.6.save.dir=${c.cliOut}`];
    const r = spawnSync(process.execPath, [BIN, ...args, '--backend', 'onnxruntime'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
});

/** The image a buffer holds, read as the CLI reads its own outputs. */
async function image(bytes: Buffer, name: string) {
  const path = join(await tempDir('unetflow-page-demo-'), name);
  await writeFile(path, bytes);
  return readImage(path);
}

async function sameAsCli(page: Parameters<typeof outputBytes>[0], c: Case): Promise<void> {
  for (const name of c.slices) {
    const id = name.replace(/\.png$/, '');
    const mask = await image(await outputBytes(page, `${id}.mask.png`), `${id}.mask.png`);
    const cliMask = await readImage(join(c.cliOut, `${id}.mask.png`));
    assert.equal(mask.width, cliMask.width);
    assert.equal(mask.height, cliMask.height);
    let differ = 0;
    for (let i = 0; i < mask.data.length; i++) if (mask.data[i] !== cliMask.data[i]) differ++;
    assert.equal(differ, 0, `${id}: ${differ} mask pixels differ from the CLI's`);
    const probabilities = await image(await outputBytes(page, `${id}.probabilities.tif`), `${id}.probabilities.tif`);
    const cliProbabilities = await readImage(join(c.cliOut, `${id}.probabilities.tif`));
    assert.equal(probabilities.data.length, cliProbabilities.data.length);
    let worst = 0;
    for (let i = 0; i < probabilities.data.length; i++) worst = Math.max(worst, Math.abs(probabilities.data[i] - cliProbabilities.data[i]));
    assert.ok(worst <= 1e-4, `${id}: probabilities differ from the CLI's by up to ${worst}`);
  }
}

for (const c of CASES) {
  const what = c.pipeline ? `the demo's steps with one pass per tile on ${c.slices.join(', ')}` : 'the Quick start job on the three slices';
  test(`${what} on ${c.engine}: every slice done, the engine line as the CLI gives it, masks identical to the CLI's and probabilities within 1e-4`, { ...needsBuiltApp(), timeout: 1_200_000 }, async () => {
    const { page, close } = await openAppPage();
    try {
      if (c.pipeline) {
        const dir = await tempDir('unetflow-page-demo-pipeline-');
        await writeFile(join(dir, 'demo-one-pass.yaml'), c.pipeline);
        await page.setInputFiles('#pipeline-file', join(dir, 'demo-one-pass.yaml'));
      }
      await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the pipeline to be valid');
      await useFolders(page, await Promise.all(c.slices.map(async (name) => ({ name, bytes: await readFile(join(SLICES, name)) }))));
      await start(page, c.engine);
      assert.equal(await ended(page), 'finished', await page.locator('body').innerText());
      const n = c.slices.length;
      assert.equal(await page.locator('#rows tr[data-status="done"]').count(), n);
      assert.equal(await page.locator('#overall-text').textContent(), `${n} of ${n} files — finished after ${await page.evaluate(() => (window.unetflow!.view.events.find((e) => e.type === 'stats') as { seconds: number }).seconds.toFixed(1))} s`);
      const line = (await page.locator('#engine-line').textContent()) ?? '';
      assert.match(line, new RegExp(`^steps\\[3\\]\\.unet: backend ${c.engine} \\(`));
      if (c.engine === 'webgpu') assert.match(line, /google swiftshader adapter.*A software adapter: its speed is a CPU's, not a GPU's\.$/);
      assert.equal(await page.locator('#gallery img').count(), n);
      await sameAsCli(page, c);
    } finally {
      await close();
    }
  });
}
