/**
 * A page holding the page's decoder, encoder and engine (page-entry.ts) with
 * onnxruntime-web's wasm files and the shipped model beside it, served from
 * http://127.0.0.1 (WebGPU needs a secure context), in Debian's chromium with WebGPU on.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { openBrowser } from '../../helpers/browser.js';
import { tempDir } from '../../helpers/files.js';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

export async function openEnginePage(files: Readonly<Record<string, Uint8Array>> = {}): Promise<{ page: Page; dispose(): Promise<void> }> {
  const site = await tempDir('unetflow-web-engine-');
  const bundle = await build({ entryPoints: ['test/web/engine/page-entry.ts'], bundle: true, format: 'esm', platform: 'browser', outfile: join(site, 'page.js'), metafile: true, logLevel: 'silent' });
  const nodeImports = Object.values(bundle.metafile.inputs).flatMap((i) => i.imports).filter((i) => i.path.startsWith('node:') || i.path === 'sharp');
  assert.deepEqual(nodeImports, [], 'the decoder, encoder and engine pull no Node module into the bundle');
  assert.deepEqual(Object.keys(bundle.metafile.inputs).filter((i) => i.includes('node_modules/@tensorflow/')), [], 'nor tfjs, which the page engine does not run');
  const dist = 'node_modules/onnxruntime-web/dist';
  for (const f of await readdir(dist)) if (/^ort-wasm-simd-threaded.*\.(wasm|mjs)$/.test(f)) await cp(join(dist, f), join(site, 'ort', f));
  await cp('models/isbi2012-em', join(site, 'model'), { recursive: true });
  await writeFile(join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>engine</title><script type="module" src="page.js"></script>');
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(site, name), bytes);
  const server = createServer(async (req, res) => {
    const path = normalize(join(site, decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname)));
    if (!path.startsWith(site + sep)) return void res.writeHead(404).end();
    const file = path.endsWith(sep) ? join(path, 'index.html') : path;
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  const close = () => new Promise<void>((ok) => server.close(() => ok()));
  const browser = await openBrowser({ webgpu: true });
  try {
    const page = await browser.newPage();
    // tsx names the functions of the closures a test hands to page.evaluate with a helper the page lacks.
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.goto(url);
    await page.waitForFunction(() => typeof (globalThis as { unetflowWeb?: unknown }).unetflowWeb === 'object');
    return { page, dispose: async () => (await browser.dispose(), await close()) };
  } catch (error) {
    await browser.dispose();
    await close();
    throw error;
  }
}
