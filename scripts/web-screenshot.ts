/**
 * docs/web-page.png: the app page (dist/web, `npm run build:web` first) segmenting the demo
 * folder in Chromium, driven as its browser tests drive it (test/web/app-page.ts): the
 * Quick start job on wasm over the three bundled slices given as an origin-private
 * folder, and a file that is not an image, so that a failure shows.
 *
 *   npx tsx scripts/web-screenshot.ts [OUT.png]
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { openBrowser } from '../test/helpers/browser.js';
import { startAppCli } from '../test/web/app-cli.js';
import { ended, needsBuiltApp, start, until, useFolders } from '../test/web/app-page.js';

const out = resolve(process.argv[2] ?? 'docs/web-page.png');
const missing = needsBuiltApp().skip;
if (missing) throw new Error(missing);
const slices = resolve('fixtures/isbi2012/test');
const files = await Promise.all(
  (await readdir(slices)).filter((f) => f.endsWith('.png')).sort().map(async (name) => ({ name, bytes: await readFile(join(slices, name)) })),
);
files.push({ name: 'interrupted.png', bytes: Buffer.from('an interrupted transfer') });

const app = startAppCli(['--port', '0']);
const browser = await openBrowser({ webgpu: true });
try {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(await app.url);
  await until(page, () => document.querySelector('#validation')?.getAttribute('data-state') === 'valid', 'the Quick start to be valid');
  await useFolders(page, files);
  await start(page, 'wasm');
  const status = await ended(page);
  if (status !== 'finished') throw new Error(`the job ended ${status}:\n${await page.locator('body').innerText()}`);
  await until(page, () => [...document.querySelectorAll('#gallery img')].every((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0), 'the overlays to show');
  await page.locator('#failures summary').click();
  await until(page, () => /"errors"|"message"/.test(document.querySelector('#failures pre')?.textContent ?? ''), 'the error report');
  const png = await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1800 } });
  // A 128-colour palette keeps the file small; the page is flat colours and greyscale images.
  await sharp(png).png({ palette: true, colours: 128, effort: 10 }).toFile(out);
  process.stderr.write(`wrote ${out} (${Math.round((await stat(out)).size / 1024)} KB)\n`);
} finally {
  await browser.dispose();
  app.child.kill('SIGINT');
  await app.exit;
}
