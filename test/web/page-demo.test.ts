/**
 * The Quick start job in the page, on the bundled slices given as an OPFS folder, on
 * WebGPU (SwiftShader here) and on wasm: masks identical to the CLI's, probabilities
 * within 1e-4 of the CLI's ONNX Runtime run of the same pipeline, on the same files.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readImage } from '../../src/io/read.js';
import { tempDir } from '../helpers/files.js';
import { ended, needsBuiltApp, openAppPage, outputBytes, start, until, useFolders } from './app-page.js';

const SLICES = resolve('fixtures/isbi2012/test');
const BIN = resolve('bin/unetflow.js');
let cliOut = '';
let slices: { name: string; bytes: Buffer }[] = [];

before(async () => {
  if (needsBuiltApp().skip) return;
  const names = (await readdir(SLICES)).filter((f) => f.endsWith('.png')).sort();
  slices = await Promise.all(names.map(async (name) => ({ name, bytes: await readFile(join(SLICES, name)) })));
  cliOut = join(await tempDir('unetflow-page-demo-cli-'), 'out');
  const r = spawnSync(process.execPath, [BIN, 'run', 'pipelines/demo.yaml', '--backend', 'onnxruntime', '--set', `steps.6.save.dir=${cliOut}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

/** The image a buffer holds, read as the CLI reads its own outputs. */
async function image(bytes: Buffer, name: string) {
  const path = join(await tempDir('unetflow-page-demo-'), name);
  await writeFile(path, bytes);
  return readImage(path);
}

async function sameAsCli(page: Parameters<typeof outputBytes>[0]): Promise<void> {
  for (const { name } of slices) {
    const id = name.replace(/\.png$/, '');
    const mask = await image(await outputBytes(page, `${id}.mask.png`), `${id}.mask.png`);
    const cliMask = await readImage(join(cliOut, `${id}.mask.png`));
    assert.equal(mask.width, cliMask.width);
    assert.equal(mask.height, cliMask.height);
    let differ = 0;
    for (let i = 0; i < mask.data.length; i++) if (mask.data[i] !== cliMask.data[i]) differ++;
    assert.equal(differ, 0, `${id}: ${differ} mask pixels differ from the CLI's`);
    const probabilities = await image(await outputBytes(page, `${id}.probabilities.tif`), `${id}.probabilities.tif`);
    const cliProbabilities = await readImage(join(cliOut, `${id}.probabilities.tif`));
    assert.equal(probabilities.data.length, cliProbabilities.data.length);
    let worst = 0;
    for (let i = 0; i < probabilities.data.length; i++) worst = Math.max(worst, Math.abs(probabilities.data[i] - cliProbabilities.data[i]));
    assert.ok(worst <= 1e-4, `${id}: probabilities differ from the CLI's by up to ${worst}`);
  }
}

for (const engine of ['wasm', 'webgpu'] as const) {
  test(`the Quick start job on ${engine}: every slice done, the engine line as the CLI gives it, masks identical to the CLI's and probabilities within 1e-4`, { ...needsBuiltApp(), timeout: 1_200_000 }, async () => {
    const { page, close } = await openAppPage();
    try {
      await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the Quick start to be valid');
      await useFolders(page, slices);
      await start(page, engine);
      await until(page, () => document.querySelectorAll('#rows tr[data-status="waiting"], #rows tr[data-status="working"]').length > 0 || document.querySelector('#status')?.getAttribute('data-status') !== 'starting', 'the job to start');
      assert.equal(await ended(page), 'finished', await page.locator('body').innerText());
      assert.equal(await page.locator('#rows tr[data-status="done"]').count(), slices.length);
      assert.equal(await page.locator('#overall-text').evaluate((e) => e.textContent?.startsWith(`3 of 3 files`)), true);
      const line = (await page.locator('#engine-line').textContent()) ?? '';
      assert.match(line, new RegExp(`^steps\\[3\\]\\.unet: backend ${engine} \\(`));
      if (engine === 'webgpu') assert.match(line, /google swiftshader adapter.*A software adapter: its speed is a CPU's, not a GPU's\.$/);
      assert.equal(await page.locator('#gallery img').count(), slices.length);
      await sameAsCli(page);
    } finally {
      await close();
    }
  });
}
