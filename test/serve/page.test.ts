/**
 * The live page in a real browser (Debian's chromium through playwright-core), against
 * the real CLI: `unetflow run ... --serve 0` on a watch folder and on a short training
 * run. Pipelines are tiny (a 2-filter U-Net on 48 px images, on the cpu backend) so that
 * the page, not the network, is what is tested. With UNETFLOW_SCREENSHOT=path the watch
 * test saves a screenshot of the page there (scripts/live-page-screenshot.ts makes
 * docs/live-page.png the same way, with a real model).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { useBackend } from '../../src/model/engines/choice.js';
import { defaultMetadata, saveModel } from '../../src/model/store.js';
import { UNet } from '../../src/model/network/unet.js';
import { readImage } from '../../src/io/read.js';
import { needsChromium, openBrowser } from '../helpers/browser.js';
import { pngBytes, tempDir, writePng } from '../helpers/files.js';
import { startLiveCli, type LiveCli } from '../helpers/live-cli.js';

// The page's globals, in the functions run there (this project's TypeScript has no DOM library).
declare const document: any;
declare const getComputedStyle: any;

/** Starts the command; `current` keeps it for what a failing wait reports. */
function cli(args: string[]): LiveCli {
  current = startLiveCli(args);
  return current;
}

/** A 2-filter depth-2 U-Net (60 px in, 20 px out) saved where the pipeline expects it. */
async function tinyModel(dir: string): Promise<void> {
  await useBackend('cpu');
  const net = UNet.create({ depth: 2, baseFilters: 2, classes: 2, inputChannels: 1 }, 3);
  await saveModel(join(dir, 'model'), net, defaultMetadata(net.config, { tile: { input: 60, output: 20 } }));
  net.dispose();
}

/** Copies an image in as a microscope would: written under a temporary name, then renamed. */
async function drop(dir: string, name: string, bytes: Buffer | string): Promise<void> {
  await writeFile(join(dir, `${name}.part`), bytes);
  await rename(join(dir, `${name}.part`), join(dir, name));
}

function rawStatus(url: string, path: string): Promise<number> {
  const u = new URL(url);
  return new Promise((ok, fail) => request({ host: u.hostname, port: u.port, path }, (res) => ok(res.statusCode!)).on('error', fail).end());
}

const rows = (page: Page, status: string) => page.locator(`#rows tr[data-status="${status}"]`);
/** The command under test, for what a failing wait reports. */
let current: LiveCli | undefined;

/**
 * Waits for a condition in the page (a function, not a string: the page's CSP forbids
 * eval); when it does not come, says what the page and the command showed.
 */
async function until(page: Page, fn: () => unknown): Promise<void> {
  try {
    await page.waitForFunction(fn, undefined, { timeout: 60_000 });
  } catch (error) {
    const shown = await page.locator('body').innerText().catch(() => '(no page)');
    throw new Error(`${(error as Error).message}\n--- the page:\n${shown}\n--- unetflow's stderr:\n${current?.stderr() ?? ''}`, { cause: error });
  }
}

test('a watch run with --serve: rows, objects and thumbnails appear without a reload, a failure shows its report, and a page that reconnects catches up', { ...needsChromium(), timeout: 120_000 }, async (t) => {
  const dir = await tempDir('unetflow-page-');
  await mkdir(join(dir, 'in'));
  await tinyModel(dir);
  await writeFile(
    join(dir, 'p.yaml'),
    [
      'version: 1',
      'name: live-test',
      'source: { watch: { dir: in, stableMs: 100 } }',
      'steps:',
      '  - load: {}',
      '  - mirror: { model: model }',
      '  - tile: { model: model }',
      '  - unet: { model: model }',
      '  - stitch: {}',
      '  - threshold: { at: 0.5 }',
      '  - instances: { minArea: 2 }',
      '  - save: { dir: out, outputs: [overlay, instances] }',
      '',
    ].join('\n'),
  );
  const browser = await openBrowser();
  t.after(() => browser.dispose());
  const run = cli(['run', join(dir, 'p.yaml'), '--serve', '0', '--backend', 'cpu', '--workers', '1']);
  t.after(() => run.child.kill('SIGKILL'));
  const url = await run.url;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'loopback by default');

  const page = await browser.newPage();
  await page.goto(url);
  await until(page, () => document.getElementById('status')!.textContent === 'running');
  assert.equal(await page.locator('#pipeline').textContent(), 'live-test');
  assert.equal(await rows(page, 'done').count(), 0);
  // Keyboard: the skip link is the first stop, and leads to the table.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to the file table');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'files');

  await drop(join(dir, 'in'), 'a.png', await pngBytes(1, 48));
  await drop(join(dir, 'in'), 'b.png', await pngBytes(2, 48));
  await until(page, () => document.querySelectorAll('#rows tr[data-status="done"]').length === 2);
  // Thumbnails load (made by the server with sharp) and link to the full overlay.
  await until(page, () => [...document.querySelectorAll('#gallery img')].filter((i: any) => i.complete && i.naturalWidth > 0).length === 2);
  assert.match((await page.locator('#gallery a').first().getAttribute('href'))!, /^\/files\/0\/[ab]\.overlay\.png$/);
  // The objects column says what the instances file holds.
  for (const name of ['a', 'b']) {
    const ids = new Set((await readImage(join(dir, 'out', `${name}.instances.tif`))).data);
    ids.delete(0);
    const row = page.locator('#rows tr', { hasText: `${name}.png` });
    assert.equal(await row.locator('td').nth(2).textContent(), String(ids.size), `${name}: objects`);
  }
  const overlay = page.locator('#rows tr', { hasText: 'a.png' }).getByRole('link', { name: 'overlay' });
  assert.equal((await page.request.get(new URL((await overlay.getAttribute('href'))!, url).href)).headers()['content-type'], 'image/png');

  // A file that fails: its row, the failures list, and its report opened from the keyboard.
  await drop(join(dir, 'in'), 'bad.png', 'not an image');
  await until(page, () => document.querySelectorAll('#rows tr[data-status="failed"]').length === 1);
  const failure = page.locator('#failures li');
  assert.match((await failure.textContent())!, /bad\.png.*steps\[0\]\.load.*not a readable image/s);
  await failure.locator('summary').focus();
  await page.keyboard.press('Enter');
  await until(page, () => /"errors"/.test(document.querySelector('#failures pre')?.textContent ?? ''));
  assert.match((await failure.locator('pre').textContent())!, /"file": ".*bad\.png"/);
  assert.equal(await page.locator('#count-failed').textContent(), '1');

  // Paths out of the output folder are not found, however they are spelled.
  for (const path of ['/files/0/../p.yaml', '/files/0/..%2fp.yaml', '/files/0/%2e%2e/p.yaml', '/thumbs/0/%2e%2e%2fp.yaml', '/files/0/.unetflow-ledger.jsonl']) {
    assert.equal(await rawStatus(url, path), 404, path);
  }

  // The filter shows failures only, and all files again.
  await page.locator('#filter').selectOption('failed');
  await until(page, () => document.querySelectorAll('#rows tr').length === 1 && document.querySelector('#rows tr').dataset.status === 'failed');
  await page.locator('#filter').selectOption('all');
  await until(page, () => document.querySelectorAll('#rows tr[data-status]').length === 3);

  // Dark: the page follows the system's colour scheme.
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(await background(), 'rgb(255, 255, 255)');
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.equal(await background(), 'rgb(15, 18, 23)');
  await page.emulateMedia({ colorScheme: 'light' });
  if (process.env.UNETFLOW_SCREENSHOT) await page.screenshot({ path: process.env.UNETFLOW_SCREENSHOT, fullPage: true });

  // The page goes away while the run goes on; a new one catches up with what it missed.
  await page.close();
  await drop(join(dir, 'in'), 'c.png', await pngBytes(3, 48));
  await drop(join(dir, 'in'), 'd.png', await pngBytes(4, 48));
  while ((await readdir(join(dir, 'out')).catch(() => [])).filter((n) => n.endsWith('.overlay.png')).length < 4) await new Promise((r) => setTimeout(r, 100));
  const again = await browser.newPage();
  await again.goto(url);
  await until(again, () => document.querySelectorAll('#rows tr[data-status="done"]').length === 4);
  assert.equal(await again.locator('#count-done').textContent(), '4');
  // Newest first: c and d (taken at once, in either order) before a and b.
  // Names are shown below the folder they all share, the full path as the tooltip.
  const shown = await rows(again, 'done').locator('th').allTextContents();
  assert.deepEqual([shown.slice(0, 2).sort(), shown.slice(2).sort()], [['c.png', 'd.png'], ['a.png', 'b.png']]);
  assert.equal(await again.locator('#rows th', { hasText: /^a\.png$/ }).getAttribute('title'), join(dir, 'in', 'a.png'));
  // And the new page is live too.
  await drop(join(dir, 'in'), 'e.png', await pngBytes(5, 48));
  await until(again, () => document.querySelectorAll('#rows tr[data-status="done"]').length === 5);

  // Stopped like any watch run: by a signal, exit 0 whatever its files did (the failure is in the ledger), as without --serve.
  run.child.kill('SIGINT');
  assert.equal(await run.exit, 0, run.stderr());
});

test('a training run with --serve: the loss curve grows as steps arrive', { ...needsChromium(), timeout: 120_000 }, async (t) => {
  const dir = await tempDir('unetflow-page-train-');
  for (const sub of ['images', 'labels']) await mkdir(join(dir, sub));
  for (let i = 0; i < 2; i++) {
    await writePng(join(dir, 'images', `${i}.png`), i, 64);
    await writePng(join(dir, 'labels', `${i}.png`), 10 + i, 64);
  }
  await writeFile(
    join(dir, 'train.yaml'),
    [
      'version: 1',
      'name: live-train',
      'epochs: 15',
      'concurrency: 1',
      'source: { pairs: { images: images, labels: labels } }',
      'steps:',
      '  - load: {}',
      '  - random-tiles: { input: 60, output: 20 }',
      '  - train: { model: model, architecture: { depth: 2, baseFilters: 2 }, optimizer: adam, checkpointEvery: 1000 }',
      '',
    ].join('\n'),
  );
  // The browser is up first, so that the page is there before the first step.
  const browser = await openBrowser();
  t.after(() => browser.dispose());
  const run = cli(['run', join(dir, 'train.yaml'), '--serve', '0', '--keep-serving', '--backend', 'cpu', '--workers', '1']);
  t.after(() => run.child.kill('SIGKILL'));
  const page = await browser.newPage();
  await page.goto(await run.url);
  // The last step the page shows beside the drawn loss chart, as it changes, until the run has finished.
  const seen: number[] = [];
  for (;;) {
    const { step, status } = await page.evaluate(() => ({
      step: document.querySelectorAll('#chart-loss .u-over').length ? Number(document.getElementById('train-last')!.textContent!.match(/^step (\d+)/)?.[1] ?? 0) : 0,
      status: document.getElementById('status')!.textContent,
    }));
    if (step && step !== seen.at(-1)) seen.push(step);
    if (status === 'finished') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await until(page, () => /^step 30:/.test(document.getElementById('train-last')!.textContent!));
  const drawn = await page.evaluate(() => document.querySelectorAll('#chart-loss .u-over').length);
  assert.equal(drawn, 1, 'one loss chart');
  assert.ok(seen.length >= 3, `the curve was seen growing: ${seen.join(', ')}`);
  assert.deepEqual([...seen].sort((a, b) => a - b), seen, 'steps only go up');
  assert.equal(await page.locator('#training').isVisible(), true);
  run.child.kill('SIGINT');
  assert.equal(await run.exit, 0, run.stderr());
});
