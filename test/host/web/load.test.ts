/**
 * The CLI's `load` operator in a real browser, reading a folder of the origin-private
 * file system through the page's image reader (src/web/host/images.ts): the same
 * samples as in Node with sharp, and a corrupt file failing alone with its step and name.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import { lastValueFrom, from, toArray } from 'rxjs';
import type { Page } from 'playwright-core';
import { load } from '../../../operators/load.js';
import { save } from '../../../operators/save.js';
import { readImage } from '../../../src/io/read.js';
import { pageModules } from '../../../scripts/build-web.js';
import { needsChromium, openBrowser } from '../../helpers/browser.js';
import { tempDir } from '../../helpers/files.js';
import { serveStatic, type StaticServer } from './serve-static.js';

declare const loadInPage: any;

const skip = needsChromium();
let server: StaticServer | undefined;
let browser: Awaited<ReturnType<typeof openBrowser>> | undefined;
let page: Page;

before(async () => {
  if (skip.skip) return;
  const site = await tempDir('unetflow-web-load-');
  await build({ entryPoints: ['test/host/web/load-entry.ts'], bundle: true, format: 'esm', platform: 'browser', outfile: join(site, 'load.js'), plugins: [pageModules], logLevel: 'silent' });
  await writeFile(join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>load</title><script type="module" src="load.js"></script>');
  server = await serveStatic(site);
  browser = await openBrowser();
  page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => typeof loadInPage === 'function');
});

after(async () => {
  await browser?.dispose();
  await server?.close();
});

const FILES = {
  '00.png': 'fixtures/isbi2012/test/00.png',
  '01.png': 'fixtures/isbi2012/test/01.png',
  'nuclei.tif': 'fixtures/dsb2018-nuclei/images/nuclei.tif',
};

test('load in a page gives the samples load gives in Node, and a corrupt file fails alone naming its step', skip, async () => {
  const dir = await tempDir();
  const bytes: Record<string, number[]> = {};
  for (const [name, path] of Object.entries(FILES)) {
    const b = await readFile(path);
    bytes[name] = [...b];
    await writeFile(join(dir, name), b);
  }
  // A PNG cut short in its pixel data: the kind of file a copy that stopped leaves.
  const torn = (await readFile(FILES['00.png'])).subarray(0, 5000);
  bytes['torn.png'] = [...torn];
  await writeFile(join(dir, 'torn.png'), torn);

  const params = { channels: 1 };
  const inPage = await page.evaluate(({ bytes, params }) => loadInPage(bytes, params), { bytes, params });

  const nodeFailures: string[] = [];
  const samples = await lastValueFrom(
    from(Object.keys(bytes).sort().map((name) => ({ path: join(dir, name) }))).pipe(load(params, { step: 'steps[0].load', onSampleError: (e) => nodeFailures.push(e.message) }), toArray()),
  );
  const inNode = samples.map((s) => ({
    id: s.id, width: s.image.width, height: s.image.height, channels: s.image.channels, dtype: s.image.dtype, pixelSize: s.metadata?.pixelSize,
    sha256: createHash('sha256').update(new Uint8Array(s.image.data.buffer, s.image.data.byteOffset, s.image.data.byteLength)).digest('hex'),
  }));
  assert.deepEqual(inPage.failures.slice(0, -1), [], 'only torn.png fails');
  // load reads two files at once: samples come in the order their files were read.
  const summary = (list: object[]) => JSON.parse(JSON.stringify(list.map(({ outputs, written, ...s }: any) => s).sort((a: any, b: any) => a.id.localeCompare(b.id))));
  assert.deepEqual(summary(inPage.samples), summary(inNode));
  assert.deepEqual(summary(inPage.samples).map((s: { id: string }) => s.id), ['00', '01', 'nuclei']);
  assert.equal(inPage.failures.length, 1);
  assert.match(inPage.failures[0], /^steps\[0\]\.load: \/input\/torn\.png: /);
  assert.equal(nodeFailures.length, 1, 'Node fails the same file');
});

test('save in a page writes into the output folder the outputs save writes in Node, with the same names and pixels', skip, async () => {
  const dir = await tempDir();
  const bytes: Record<string, number[]> = {};
  for (const [name, path] of Object.entries(FILES)) {
    bytes[name] = [...(await readFile(path))];
    await writeFile(join(dir, name), await readFile(path));
  }
  const params = { channels: 1, normalize: { method: 'dtype' as const } };
  const saveParams = { dir: '../output', outputs: ['image'] };
  const inPage = await page.evaluate(({ bytes, params, saveParams }) => loadInPage(bytes, params, saveParams), { bytes, params, saveParams });
  assert.deepEqual(inPage.failures, []);

  const out = join(dir, 'output');
  const samples = await lastValueFrom(
    from(Object.keys(bytes).sort().map((name) => ({ path: join(dir, name) }))).pipe(load(params, {}), save({ dir: out, outputs: ['image'] }), toArray()),
  );
  assert.equal(inPage.samples.length, 3);
  for (const s of samples) {
    const nodePath = (s.metadata?.outputs as Record<string, string>).image;
    const inThePage = inPage.samples.find((p: { id: string }) => p.id === s.id);
    const pagePath = inThePage.outputs.image as string;
    assert.equal(pagePath.replace(/^\/output\//, ''), nodePath.slice(out.length + 1), 'the same output name');
    const written = join(await tempDir(), pagePath.slice(pagePath.lastIndexOf('/') + 1));
    await writeFile(written, Buffer.from(inThePage.written.image));
    const [a, b] = [await readImage(written), await readImage(nodePath)];
    assert.deepEqual([a.width, a.height, a.channels, a.dtype], [b.width, b.height, b.channels, b.dtype]);
    assert.deepEqual(a.data, b.data, `${pagePath}: the pixels Node writes`);
  }
});
