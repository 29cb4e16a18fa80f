/**
 * The app page under test: `unetflow app` serving the built dist/web, a real Chromium
 * (WebGPU on, which headless Debian chromium gives as Google's SwiftShader adapter), and
 * folders of the origin-private file system given to the page through its test hook in
 * place of picked ones. Where dist/web is not built the tests skip, naming the command.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startAppCli, type AppCli } from './app-cli.js';
import { CHROMIUM, openBrowser } from '../helpers/browser.js';

export const DIST = resolve('dist/web');

/** node:test's `skip` for a test of the built page in Chromium. */
export function needsBuiltApp(): { skip: string | false } {
  if (!existsSync(CHROMIUM)) return { skip: `${CHROMIUM} is not installed (Debian's chromium package; .ci/services installs it)` };
  if (!existsSync(resolve(DIST, 'index.html'))) return { skip: `dist/web is not built: run \`npm run build:web\` first` };
  return { skip: false };
}

export interface AppPage {
  readonly app: AppCli;
  readonly browser: BrowserContext & { dispose(): Promise<void> };
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * `unetflow app --port 0`, a browser with WebGPU, and the page loaded with its pipeline
 * checked; `withoutFolderPicker` makes it a browser without showDirectoryPicker (Firefox, Safari).
 */
export async function openAppPage({ withoutFolderPicker = false } = {}): Promise<AppPage> {
  const app = startAppCli(['--port', '0']);
  const browser = await openBrowser({ webgpu: true });
  const page = await browser.newPage();
  if (withoutFolderPicker) await page.addInitScript(() => delete (window as { showDirectoryPicker?: unknown }).showDirectoryPicker);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(await app.url);
  await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') !== 'checking' && document.querySelector('#validation')?.textContent !== '', 'the Quick start pipeline to be checked');
  return {
    app,
    browser,
    page,
    close: async () => {
      await browser.dispose();
      app.child.kill('SIGINT');
      await app.exit;
    },
  };
}

/** Fresh OPFS folders `in` (holding `files`) and `out`, given to the page as the job's folders. */
export async function useFolders(page: Page, files: { name: string; bytes: Buffer }[]): Promise<void> {
  await page.evaluate(
    async (list) => {
      const root = await navigator.storage.getDirectory();
      for (const name of ['in', 'out']) await root.removeEntry(name, { recursive: true }).catch(() => undefined);
      const input = await root.getDirectoryHandle('in', { create: true });
      const output = await root.getDirectoryHandle('out', { create: true });
      for (const { name, base64 } of list) {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const writable = await (await input.getFileHandle(name, { create: true })).createWritable();
        await writable.write(bytes);
        await writable.close();
      }
      window.unetflow!.useFolders(input, output);
    },
    files.map((f) => ({ name: f.name, base64: f.bytes.toString('base64') })),
  );
}

/** A file the job wrote into the OPFS output folder, found by name anywhere below it. */
export async function outputBytes(page: Page, name: string): Promise<Buffer> {
  // No named functions inside: tsx would wrap them in a helper (__name) the page does not have.
  const base64 = await page.evaluate(async (wanted) => {
    const folders: FileSystemDirectoryHandle[] = [await (await navigator.storage.getDirectory()).getDirectoryHandle('out')];
    let file: File | undefined;
    while (folders.length && !file) {
      for await (const [n, h] of (folders.shift() as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
        if (h.kind === 'directory') folders.push(h as FileSystemDirectoryHandle);
        else if (n === wanted) file = await (h as FileSystemFileHandle).getFile();
      }
    }
    if (!file) return undefined;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, name);
  if (base64 === undefined) throw new Error(`the job wrote no ${name} into its output folder`);
  return Buffer.from(base64, 'base64');
}

/** Chooses the engine and starts the job. */
export async function start(page: Page, engine: 'auto' | 'webgpu' | 'wasm'): Promise<void> {
  await page.selectOption('#engine-choice', engine);
  await page.locator('#start:not([disabled])').waitFor({ timeout: 60_000 });
  await page.click('#start');
}

/** Waits for the job to end (the status says finished or failed), however long a busy machine takes. */
export async function ended(page: Page, timeout = 600_000): Promise<string> {
  await until(page, () => ['finished', 'failed'].includes(document.querySelector('#status')?.getAttribute('data-status') ?? ''), 'the job to end', timeout);
  return (await page.locator('#status').textContent()) ?? '';
}

/** Waits for `fn` to hold in the page; when it does not, says what the page showed. */
export async function until(page: Page, fn: () => unknown, what: string, timeout = 120_000): Promise<void> {
  try {
    await page.waitForFunction(fn, undefined, { timeout, polling: 250 });
  } catch (error) {
    const shown = await page.locator('body').innerText().catch(() => '(no page)');
    throw new Error(`gave up waiting for ${what}: ${(error as Error).message}\n--- the page:\n${shown}`, { cause: error });
  }
}

/**
 * The demo's steps with one pass per tile (no flips), `model` as the page or the CLI
 * finds it: SwiftShader, the WebGPU adapter here, is a CPU, on which the demo's eight
 * flips per tile would take most of an hour.
 */
export function onePassDemo(model: string, { name = 'demo-one-pass', outputs = ['mask', 'probabilities', 'overlay'] }: { name?: string; outputs?: readonly string[] } = {}): string {
  return [
    'version: 1',
    `name: ${name}`,
    'source: { files: in }',
    'steps:',
    '  - load: { channels: 1 }',
    `  - mirror: { model: ${model} }`,
    `  - tile: { model: ${model} }`,
    `  - unet: { model: ${model} }`,
    '  - stitch: {}',
    '  - watershed: { class: 1, at: 0.1, seeds: 0.8, minSeedArea: 50 }',
    `  - save: { dir: out, outputs: [${outputs.join(', ')}] }`,
    '',
  ].join('\n');
}
