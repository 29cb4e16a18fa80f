/** After one load the app works with no network: its service worker keeps the page, its scripts, ONNX Runtime Web's wasm and the model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DIST, needsBuiltApp, openAppPage, until } from './app-page.js';

test('after one load, with the network gone, the page reloads cross-origin isolated and offers the Quick start, and the cache holds the model and the wasm', { ...needsBuiltApp(), timeout: 180_000 }, async () => {
  const precache = JSON.parse(await readFile(join(DIST, 'precache.json'), 'utf8')) as string[];
  assert.ok(precache.some((p) => p.startsWith('models/')) && precache.some((p) => p.endsWith('.wasm')), 'the build lists the model and the wasm to keep');
  const { page, browser, close } = await openAppPage();
  try {
    await until(page, () => navigator.serviceWorker.controller !== null, 'the service worker to control the page');
    // Installed means every listed file was fetched and kept.
    await page.evaluate(() => navigator.serviceWorker.ready);
    const kept = await page.evaluate(async () => {
      const names = await caches.keys();
      const cache = await caches.open(names.find((n) => n.startsWith('unetflow-app-'))!);
      return (await cache.keys()).map((r) => new URL(r.url).pathname.slice(1));
    });
    for (const path of precache) assert.ok(kept.includes(path), `${path} is kept for offline use`);

    await browser.setOffline(true);
    await page.reload();
    await until(page, () => document.querySelector('#pipeline-choice option[value="demo.yaml"]') !== null, 'the page to load offline');
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'cached answers keep the COOP/COEP headers');
    assert.match((await page.locator('#pipeline-text').textContent()) ?? '', /^# The Quick start job/);
    const model = await page.evaluate(async (p) => (await fetch(p)).status, precache.find((p) => p.endsWith('.bin'))!);
    assert.equal(model, 200, 'the model is answered from the cache');
  } finally {
    await browser.setOffline(false);
    await close();
  }
});
