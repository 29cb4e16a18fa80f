/**
 * unetflow in a web page (`npm run bench -- --filter web`), in Debian's headless Chromium
 * against the built app (`npm run build:web`) served by `unetflow app`:
 *
 * - seconds per 512² demo slice (pipelines/demo.yaml on its three slices) on wasm, and on
 *   WebGPU, whose adapter here is Google's SwiftShader: a CPU posing as a GPU, so that
 *   figure is a software adapter's and says nothing of a GPU's speed (the demo's steps with
 *   one pass per tile on one slice: see onePassDemo in test/web/app-page.ts). Both have the CLI on ONNX Runtime
 *   (onnxruntime-node) on the same pipeline and slices, measured in the same run, as reference;
 * - a first load (an empty profile): bytes the server sent, the service worker's
 *   install included, and seconds from navigation to the first mask written; then a
 *   second load of the same profile, which the cache answers;
 * - the tab's peak memory (its renderer process's peak resident set, the page and its
 *   worker together) segmenting one 4096² image.
 *
 * Seconds per slice are the job's own (file-done's seconds, median over the slices), as
 * the CLI's reference is; load times are wall-clock from the navigation.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import type { Benchmark, BenchResult } from './harness.js';
import type { RunEvent } from '../src/events.js';
import { openBrowser } from '../test/helpers/browser.js';
import { tempDir } from '../test/helpers/files.js';
import { startAppCli } from '../test/web/app-cli.js';
import { ended, needsBuiltApp, onePassDemo, start, until, useFolders } from '../test/web/app-page.js';

const SLICES = resolve('fixtures/isbi2012/test');
const BIN = resolve('bin/unetflow.js');

/** A pass-through to the app's server that counts the bytes it sends back: what a browser's first load costs on the wire. */
async function countingProxy(target: string): Promise<{ url: string; bytes(): number; close(): Promise<void> }> {
  const to = new URL(target);
  let bytes = 0;
  const server: Server = createServer((req, res) => {
    const upstream = request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.on('data', (chunk: Buffer) => (bytes += chunk.length));
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    bytes: () => bytes,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function slices(): Promise<{ name: string; bytes: Buffer }[]> {
  const names = (await readdir(SLICES)).filter((f) => f.endsWith('.png')).sort();
  return Promise.all(names.map(async (name) => ({ name, bytes: await readFile(join(SLICES, name)) })));
}

/** The CLI on ONNX Runtime, the demo on its slices: median seconds per slice. */
async function cliSeconds(): Promise<{ value: number; backend: string }> {
  const out = await tempDir('unetflow-web-bench-cli-');
  const r = spawnSync(process.execPath, [BIN, 'run', 'pipelines/demo.yaml', '--json', '--backend', 'onnxruntime', '--set', `steps.6.save.dir=${out}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`the CLI's demo failed:\n${r.stderr}`);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
  const done = events.filter((e): e is Extract<RunEvent, { type: 'file-done' }> => e.type === 'file-done');
  const backend = events.find((e): e is Extract<RunEvent, { type: 'backend' }> => e.type === 'backend');
  return { value: median(done.map((e) => e.seconds)), backend: backend ? `${backend.name} (${backend.package}, ${backend.workers} workers)` : 'unknown' };
}

/** The CLI on ONNX Runtime, one pass per tile on the first slice: its seconds. */
async function cliOnePassSeconds(): Promise<number> {
  const dir = await tempDir('unetflow-web-bench-cli1-');
  await mkdir(join(dir, 'in'));
  await copyFile(join(SLICES, '00.png'), join(dir, 'in', '00.png'));
  await writeFile(join(dir, 'p.yaml'), onePassDemo(resolve('models/isbi2012-em')));
  const r = spawnSync(process.execPath, [BIN, 'run', join(dir, 'p.yaml'), '--json', '--backend', 'onnxruntime'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`the CLI's one-pass run failed:\n${r.stderr}`);
  const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent).find((e): e is Extract<RunEvent, { type: 'file-done' }> => e.type === 'file-done');
  return done!.seconds;
}

/** The job's events, as the page recorded them (its test hook). */
const pageEvents = (page: Page) => page.evaluate(() => window.unetflow!.view.events) as Promise<RunEvent[]>;

async function demoInPage(page: Page, engine: 'wasm' | 'webgpu'): Promise<{ perSlice: number; engine: string; adapter?: unknown }> {
  let files = await slices();
  if (engine === 'webgpu') {
    const dir = await tempDir('unetflow-web-bench-pipeline-');
    await writeFile(join(dir, 'demo-one-pass.yaml'), onePassDemo('../models/isbi2012-em'));
    await page.setInputFiles('#pipeline-file', join(dir, 'demo-one-pass.yaml'));
    files = files.slice(0, 1);
    await until(page, () => document.querySelector('#pipeline-name')?.textContent === 'demo-one-pass.yaml', 'the one-pass pipeline');
  }
  await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the pipeline to be valid');
  await useFolders(page, files);
  await start(page, engine);
  const status = await ended(page, 3_600_000);
  const events = await pageEvents(page);
  const done = events.filter((e): e is Extract<RunEvent, { type: 'file-done' }> => e.type === 'file-done');
  if (status !== 'finished' || done.length !== files.length) throw new Error(`the demo on ${engine} ended ${status} with ${done.length} of ${files.length} slices done:\n${await page.locator('body').innerText()}`);
  const backend = events.find((e): e is Extract<RunEvent, { type: 'backend' }> => e.type === 'backend');
  return { perSlice: median(done.map((e) => e.seconds)), engine: (await page.locator('#engine-line').textContent()) ?? '', adapter: backend?.adapter };
}

/** The command line and parent of every process. */
async function processes(): Promise<Map<number, { cmdline: string; ppid: number; peakKiB: number }>> {
  const all = new Map<number, { cmdline: string; ppid: number; peakKiB: number }>();
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const [cmdline, status] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''), readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')]);
    all.set(Number(pid), { cmdline, ppid: Number(/PPid:\s+(\d+)/.exec(status)?.[1] ?? 0), peakKiB: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) });
  }
  return all;
}

const isBrowser = (cmdline: string) => cmdline.includes('chromium') && !cmdline.includes('--type=');

/** Chromium browser processes now running: the one a launch adds is the bench's own (the machine may run other tests' browsers). */
async function browserPids(): Promise<Set<number>> {
  return new Set([...(await processes())].filter(([, p]) => isBrowser(p.cmdline)).map(([pid]) => pid));
}

/** Peak resident set (MiB) of the renderer processes below the browser's `roots` (Debian's /usr/bin/chromium is a script that starts the browser): the app's tab, its worker within it. */
async function rendererPeakMiB(roots: readonly number[]): Promise<number> {
  const all = await processes();
  const below = (pid: number): boolean => {
    for (let p = all.get(pid)?.ppid ?? 0, hops = 0; p > 1 && hops < 8; p = all.get(p)?.ppid ?? 0, hops++) if (roots.includes(p)) return true;
    return false;
  };
  let peak = 0;
  for (const [pid, p] of all) if (p.cmdline.includes('--type=renderer') && below(pid)) peak = Math.max(peak, p.peakKiB / 1024);
  return peak;
}

async function run(): Promise<BenchResult[]> {
  const missing = needsBuiltApp().skip;
  if (missing) throw new Error(missing);
  const results: BenchResult[] = [];
  const cli = await cliSeconds();
  const reference = (value: number) => ({ name: `CLI, ${cli.backend}, same slices (same run)`, value: cli.value, ratio: value / cli.value });
  const cliOnePass = await cliOnePassSeconds();
  const app = startAppCli(['--port', '0']);
  const proxy = await countingProxy(await app.url);
  try {
    // First load on an empty profile, then the Quick start on wasm: the first mask's time includes the model's download.
    const browser = await openBrowser({ webgpu: true });
    try {
      const page = await browser.newPage();
      const t0 = Date.now();
      await page.goto(proxy.url);
      await page.evaluate(() => navigator.serviceWorker.ready);
      await until(page, () => navigator.serviceWorker.controller !== null, 'the service worker');
      const firstBytes = proxy.bytes();
      results.push({ name: 'web-first-load-bytes', value: firstBytes / 2 ** 20, unit: 'MiB', parameters: { what: 'bytes the server sent for a first load on an empty profile, the service worker install (page, scripts, model, ONNX Runtime Web wasm) included', seconds: (Date.now() - t0) / 1000 } });
      const wasm = await demoInPage(page, 'wasm');
      results.push({ name: 'web-demo-slice-wasm', value: wasm.perSlice, unit: 's/slice', parameters: { engine: wasm.engine, slices: 3, pipeline: 'pipelines/demo.yaml' }, reference: reference(wasm.perSlice) });

      // Second load of the same profile: from the cache.
      const before = proxy.bytes();
      const t1 = Date.now();
      await page.reload();
      await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the page to load again');
      results.push({ name: 'web-second-load-bytes', value: (proxy.bytes() - before) / 2 ** 20, unit: 'MiB', parameters: { what: 'bytes the server sent for a reload of the same profile (the service worker answers the model and wasm from its cache)', seconds: (Date.now() - t1) / 1000 } });

      const webgpu = await demoInPage(page, 'webgpu');
      results.push({
        name: 'web-demo-one-pass-slice-webgpu-swiftshader',
        value: webgpu.perSlice,
        unit: 's/slice',
        parameters: { engine: webgpu.engine, adapter: webgpu.adapter, note: "a software adapter (Google's SwiftShader, on the CPU): not a GPU's speed", slices: 1, pipeline: "pipelines/demo.yaml's steps, one pass per tile (no flips)" },
        reference: { name: 'CLI, onnxruntime-node, same pipeline and slice (same run)', value: cliOnePass, ratio: webgpu.perSlice / cliOnePass },
      });
    } finally {
      await browser.dispose();
    }

    results.push(...(await firstMaskTimes(proxy)));
    results.push(await peakMemory(app.url));
  } finally {
    await proxy.close();
    app.child.kill('SIGINT');
    await app.exit;
  }
  return results;
}

/** Seconds from navigation to the first mask written, on an empty profile and then on a reload of it (one slice, wasm). */
async function firstMaskTimes(proxy: { url: string }): Promise<BenchResult[]> {
  const browser = await openBrowser({ webgpu: true });
  const out: BenchResult[] = [];
  try {
    const page = await browser.newPage();
    const [one] = await slices();
    for (const name of ['web-first-mask-seconds', 'web-first-mask-seconds-cached']) {
      const t0 = Date.now();
      if (name.endsWith('cached')) await page.reload();
      else await page.goto(proxy.url);
      await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the Quick start to be valid');
      await useFolders(page, [one]);
      await start(page, 'wasm');
      await until(page, () => document.querySelector('#rows tr[data-status="done"]') !== null, 'the first mask', 3_600_000);
      out.push({ name, value: (Date.now() - t0) / 1000, unit: 's', parameters: { what: `from navigation to the first slice's mask written, ${name.endsWith('cached') ? 'a reload answered by the cache' : 'an empty profile'}; wasm, pipelines/demo.yaml, one 512² slice` } });
      await ended(page, 3_600_000);
    }
  } finally {
    await browser.dispose();
  }
  return out;
}

/** One 4096² image (the demo's slices tiled 8 x 8) through the demo's steps, one pass per tile, on wasm: the tab's peak memory. */
async function peakMemory(url: Promise<string>): Promise<BenchResult> {
  const tiles = await slices();
  const side = 4096;
  const composites = [];
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) composites.push({ input: tiles[(x + y) % tiles.length].bytes, left: x * 512, top: y * 512 });
  const big = await sharp({ create: { width: side, height: side, channels: 3, background: { r: 0, g: 0, b: 0 } } }).composite(composites).toColourspace('b-w').png().toBuffer();
  const earlier = await browserPids();
  const browser = await openBrowser({ webgpu: true });
  const ours = [...(await browserPids())].filter((pid) => !earlier.has(pid));
  try {
    if (ours.length === 0) throw new Error("cannot find this bench's browser process");
    const page = await browser.newPage();
    await page.goto(await url);
    await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the Quick start to be valid');
    const dir = await tempDir('unetflow-web-bench-big-');
    await writeFile(join(dir, 'demo-one-pass.yaml'), onePassDemo('../models/isbi2012-em'));
    await page.setInputFiles('#pipeline-file', join(dir, 'demo-one-pass.yaml'));
    await until(page, () => document.querySelector('#pipeline-name')?.textContent === 'demo-one-pass.yaml' && document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the one-pass pipeline to be valid');
    await useFolders(page, [{ name: 'big.png', bytes: big }]);
    await start(page, 'wasm');
    const status = await ended(page, 3_600_000);
    const peak = await rendererPeakMiB(ours);
    const done = (await pageEvents(page)).find((e): e is Extract<RunEvent, { type: 'file-done' }> => e.type === 'file-done');
    return { name: 'web-peak-tab-memory-4096', value: peak, unit: 'MiB', parameters: { what: "peak resident set of the tab's renderer process (page and worker) segmenting one 4096² image on wasm (the demo's steps, one pass per tile)", status, seconds: done?.seconds } };
  } finally {
    await browser.dispose();
  }
}

export const benchmarks: Benchmark[] = [{ group: 'web', name: 'page', run }];
