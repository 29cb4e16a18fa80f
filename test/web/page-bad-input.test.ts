/**
 * Bad input in the page: a float TIFF holding NaN, a truncated PNG and a TIFF whose header
 * claims 100000² pixels, beside a good slice. Each fails alone with the CLI's error for
 * the same file (its step, and its message up to the host's own details), the good slice is
 * done, and the tab answers all along: the decoding runs in the worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { RunEvent } from '../../src/events.js';
import { writeTiffBomb } from '../helpers/bomb.js';
import { tempDir } from '../helpers/files.js';
import { typedTiff } from '../io/typed-tiff.js';
import { ended, needsBuiltApp, onePassDemo, openAppPage, start, until, useFolders } from './app-page.js';

const BIN = resolve('bin/unetflow.js');
type Failed = Extract<RunEvent, { type: 'file-failed' }>;


/**
 * A failure as both hosts can be compared: its file's name, its step, and what its message
 * says of the file up to the first parenthesis, where the hosts' own details begin (the
 * decoder's words, the memory this machine or tab can hold).
 */
const comparable = (e: Failed) => {
  const said = e.file ? e.message.slice(e.message.indexOf(e.file) + e.file.length) : e.message;
  return { file: basename(e.file ?? ''), step: e.step, message: said.split('(')[0].trim() };
};

test('a NaN float TIFF, a truncated PNG and a huge header each fail alone with the CLI\'s error, the good slice is done, and the tab stays responsive', { ...needsBuiltApp(), timeout: 600_000 }, async () => {
  const dir = await tempDir('unetflow-page-bad-');
  await mkdir(join(dir, 'in'));
  const nan = new Float32Array(64 * 64).fill(0.5);
  nan[100] = NaN;
  await writeFile(join(dir, 'in', 'nan.tif'), typedTiff(64, 64, 1, nan));
  const slice = await readFile(resolve('fixtures/isbi2012/test/00.png'));
  await writeFile(join(dir, 'in', 'truncated.png'), slice.subarray(0, slice.length >> 1));
  await writeTiffBomb(join(dir, 'in', 'huge.tif'), 100_000);
  await writeFile(join(dir, 'in', 'good.png'), slice);
  await writeFile(join(dir, 'bad-input.yaml'), onePassDemo(resolve('models/isbi2012-em'), { name: 'bad-input', outputs: ['mask'] }));
  const cli = spawnSync(process.execPath, [BIN, 'run', 'bad-input.yaml', '--json', '--backend', 'onnxruntime'], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(cli.status, 1, cli.stderr);
  const cliEvents = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
  const cliFailed = cliEvents.filter((e): e is Failed => e.type === 'file-failed').map(comparable);
  assert.deepEqual(cliFailed.map((f) => f.file).sort(), ['huge.tif', 'nan.tif', 'truncated.png']);

  const pageDir = await tempDir('unetflow-page-bad-page-');
  await writeFile(join(pageDir, 'bad-input.yaml'), onePassDemo('../models/isbi2012-em', { name: 'bad-input', outputs: ['mask'] }));
  const { page, close } = await openAppPage();
  try {
    await page.setInputFiles('#pipeline-file', join(pageDir, 'bad-input.yaml'));
    await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the pipeline to be valid');
    const inputs = ['good.png', 'huge.tif', 'nan.tif', 'truncated.png'];
    await useFolders(page, await Promise.all(inputs.map(async (name) => ({ name, bytes: await readFile(join(dir, 'in', name)) }))));
    await start(page, 'wasm');
    await until(page, () => document.querySelectorAll('#rows tr[data-status="failed"]').length >= 1, 'a first failure');
    // While the job goes on, the page takes keyboard input and draws frames.
    const focused = () => page.evaluate(() => document.activeElement?.outerHTML.slice(0, 200) ?? '');
    const before = await focused();
    await page.keyboard.press('Tab');
    assert.notEqual(await focused(), before, 'focus moved while the job ran');
    assert.equal(await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => ok(true)))), true);
    assert.equal(await ended(page), 'finished');
    const events = (await page.evaluate(() => window.unetflow!.view.events)) as RunEvent[];
    const failed = events.filter((e): e is Failed => e.type === 'file-failed').map(comparable);
    const byFile = (a: { file: string }, b: { file: string }) => a.file.localeCompare(b.file);
    assert.deepEqual(failed.sort(byFile), cliFailed.sort(byFile));
    assert.equal(await page.locator('#rows tr[data-status="done"]').count(), 1);
    assert.equal(await page.locator('#rows tr[data-status="failed"]').count(), 3);
    // Each failure's one line, as the CLI prints it on stderr.
    const logs = await page.locator('#logs li').evaluateAll((items) => items.map((li) => li.textContent ?? ''));
    for (const e of events.filter((x): x is Failed => x.type === 'file-failed')) {
      assert.ok(logs.some((l) => l.endsWith(` FAILED  ${e.message}${e.report ? ` (report: ${e.report})` : ''}`)), `the CLI's FAILED line for ${e.file}, in:\n${logs.join('\n')}`);
    }
  } finally {
    await close();
  }
});
