/**
 * A Chromium page served from a fresh build of the page's worker (src/web/worker.ts, as
 * build:web builds it), for the runner's tests: made before a file's tests, closed after
 * them. Where Chromium is not installed, `skip` says so and no page is made.
 */
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.js';
import { needsChromium, openBrowser } from '../helpers/browser.js';
import { tempDir } from '../helpers/files.js';
import { serveStatic, type StaticServer } from '../host/web/serve-static.js';

/** What a job run in the page's worker gave: its events, and the bytes of every file in its output folder. */
export interface WorkerJob {
  readonly events: any[];
  readonly written: Record<string, number[]>;
}

/**
 * In the page, `runJob({ input, output, files, name, text, engine })`: fills the
 * origin-private folder `input` with `files` (name to bytes), runs the pipeline `text`
 * (file `name`) on the worker into the folder `output`, and resolves with a WorkerJob.
 */
const RUN_JOB = `globalThis.runJob = ({ input, output, files, name, text, engine }) => new Promise(async (ok, fail) => {
  const root = await navigator.storage.getDirectory();
  const inputFolder = await root.getDirectoryHandle(input, { create: true });
  const outputFolder = await root.getDirectoryHandle(output, { create: true });
  for (const [file, bytes] of Object.entries(files)) {
    const w = await (await inputFolder.getFileHandle(file, { create: true })).createWritable();
    await w.write(new Uint8Array(bytes));
    await w.close();
  }
  const events = [];
  const worker = new Worker('worker.js', { type: 'module' });
  worker.onerror = (e) => fail(new Error('the worker failed: ' + e.message));
  worker.onmessage = async (e) => {
    if (e.data.type === 'event') return void events.push(e.data.event);
    worker.terminate();
    if (e.data.type !== 'end') return fail(new Error(JSON.stringify(e.data)));
    const written = {};
    for await (const [file, handle] of outputFolder.entries()) written[file] = [...new Uint8Array(await (await handle.getFile()).arrayBuffer())];
    ok({ events, written });
  };
  worker.postMessage({ type: 'run', id: 1, name, text, input: inputFolder, output: outputFolder, engine });
});`;

export interface WorkerPage {
  /** node:test's `skip` option for the file's tests. */
  readonly skip: { skip: string | false };
  /** The page, within a test that did not skip. */
  page(): Page;
  /** Runs a job in the page's worker (RUN_JOB). */
  runJob(job: { input: string; output: string; files: Record<string, number[]>; name: string; text: string; engine: 'auto' | 'webgpu' | 'wasm' }): Promise<WorkerJob>;
}

export function workerPage(options: { webgpu?: boolean } = {}): WorkerPage {
  const skip = needsChromium();
  let server: StaticServer | undefined;
  let browser: Awaited<ReturnType<typeof openBrowser>> | undefined;
  let page: Page | undefined;
  before(async () => {
    if (skip.skip) return;
    const out = join(await tempDir('unetflow-web-'), 'web');
    await buildWeb(out, () => undefined, { 'worker.js': 'src/web/worker.ts' });
    server = await serveStatic(out);
    browser = await openBrowser(options);
    page = await browser.newPage();
    // esbuild's keepNames helper, which functions handed to page.evaluate may call.
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.addInitScript({ content: RUN_JOB });
    await page.goto(server.url);
  });
  after(async () => {
    await browser?.dispose();
    await server?.close();
  });
  const thePage = () => {
    if (!page) throw new Error('no page: the browser did not start');
    return page;
  };
  return {
    skip,
    page: thePage,
    runJob: (job) => thePage().evaluate((j) => (globalThis as unknown as { runJob(j: unknown): Promise<WorkerJob> }).runJob(j), job),
  };
}
