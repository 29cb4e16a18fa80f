/**
 * A page with the page's hosts on `globalThis.hosts` (page-entry.ts, bundled as the web
 * build bundles: nothing of Node may be in it), served from http://127.0.0.1 (the
 * origin-private file system needs a secure context), in Debian's chromium.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { after, before } from 'node:test';
import { needsChromium, openBrowser } from '../../helpers/browser.js';
import { tempDir } from '../../helpers/files.js';
import { serveStatic } from './serve-static.js';

declare const hosts: unknown;

export async function openHostPage(files: Readonly<Record<string, string>> = {}): Promise<{ page: Page; dispose(): Promise<void> }> {
  const site = await tempDir('unetflow-web-hosts-');
  const bundle = await build({ entryPoints: ['test/host/web/page-entry.ts'], bundle: true, format: 'esm', platform: 'browser', outfile: join(site, 'hosts.js'), metafile: true, logLevel: 'silent' });
  const nodeImports = Object.values(bundle.metafile.inputs).flatMap((i) => i.imports).filter((i) => i.path.startsWith('node:'));
  assert.deepEqual(nodeImports, [], 'the page hosts pull no Node module into the bundle');
  await writeFile(join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>hosts</title><script type="module" src="hosts.js"></script>');
  for (const [name, text] of Object.entries(files)) await writeFile(join(site, name), text);
  const server = await serveStatic(site);
  const browser = await openBrowser();
  try {
    const page = await browser.newPage();
    // tsx names the functions of the closures a test hands to page.evaluate with a helper the page lacks.
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.goto(server.url);
    await page.waitForFunction(() => typeof hosts === 'object');
    return {
      page,
      dispose: async () => {
        await browser.dispose();
        await server.close();
      },
    };
  } catch (error) {
    await browser.dispose();
    await server.close();
    throw error;
  }
}

/** A host page for a test file: opened before its tests, closed after them; where Chromium is not installed, `skip` says so. */
export function hostPage(files: Readonly<Record<string, string>> = {}): { readonly skip: { skip: string | false }; page(): Page } {
  const skip = needsChromium();
  let opened: Awaited<ReturnType<typeof openHostPage>> | undefined;
  before(async () => {
    if (!skip.skip) opened = await openHostPage(files);
  });
  after(() => opened?.dispose());
  return {
    skip,
    page: () => {
      if (!opened) throw new Error('no page: the browser did not start');
      return opened.page;
    },
  };
}
