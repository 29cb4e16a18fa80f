/**
 * A real browser for the live page's tests: Debian's chromium driven by playwright-core,
 * with the flags ../shared/FINDINGS.md gives (headless, as root, and no background
 * traffic on a closed network) and a fresh profile each time. Where /usr/bin/chromium is
 * not installed the tests skip saying so; where it is, a browser that will not start
 * fails them.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { chromium, type BrowserContext } from 'playwright-core';
import { tempDir } from './files.js';

export const CHROMIUM = '/usr/bin/chromium';

/** node:test's `skip` option for a test that needs the browser. */
export function needsChromium(): { skip: string | false } {
  return { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian's chromium package; .ci/services installs it)` };
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A browser with an empty profile; `close` ends it and removes the profile. */
export async function openBrowser(options: { colorScheme?: 'light' | 'dark'; webgpu?: boolean } = {}): Promise<BrowserContext & { dispose(): Promise<void> }> {
  const profile = await tempDir('unetflow-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // WebGPU: on an http://127.0.0.1 page headless chromium then gives Google's SwiftShader adapter.
    args: options.webgpu ? [...ARGS, '--enable-unsafe-webgpu'] : ARGS,
    viewport: { width: 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  return Object.assign(context, {
    dispose: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  });
}
