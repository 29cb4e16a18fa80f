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

export interface WorkerPage {
  /** node:test's `skip` option for the file's tests. */
  readonly skip: { skip: string | false };
  /** The page, within a test that did not skip. */
  page(): Page;
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
    await page.goto(server.url);
  });
  after(async () => {
    await browser?.dispose();
    await server?.close();
  });
  return {
    skip,
    page: () => {
      if (!page) throw new Error('no page: the browser did not start');
      return page;
    },
  };
}
