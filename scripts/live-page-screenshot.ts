/**
 * docs/live-page.png: the live page of a real watch run, as test/serve/page.test.ts drives
 * it, with a real segmentation: pipelines/demo.yaml's steps (the shipped ISBI 2012 model,
 * its watershed; one pass per tile instead of eight flips, to be quicker) on the three
 * bundled test slices, as they are and mirrored, dropped one by one into a watched folder,
 * and a file that is not an image, so that a failure shows.
 *
 *   npx tsx scripts/live-page-screenshot.ts [OUT.png]
 */
import { spawn } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { openBrowser } from '../test/helpers/browser.js';
import { tempDir } from '../test/helpers/files.js';

const out = resolve(process.argv[2] ?? 'docs/live-page.png');
const dir = await tempDir('unetflow-live-page-');
await mkdir(join(dir, 'microscope'));
const model = resolve('models/isbi2012-em');
await writeFile(
  join(dir, 'segment-watch.yaml'),
  [
    'version: 1',
    'name: isbi-live',
    'source: { watch: { dir: microscope, stableMs: 200 } }',
    'steps:',
    '  - load: { channels: 1 }',
    `  - mirror: { model: ${model} }`,
    `  - tile: { model: ${model} }`,
    `  - unet: { model: ${model} }`,
    '  - stitch: {}',
    '  - watershed: { class: 1, at: 0.1, seeds: 0.8, minSeedArea: 50 }',
    '  - save: { dir: results, outputs: [mask, overlay, instances] }',
    '',
  ].join('\n'),
);

const run = spawn(process.execPath, [resolve('bin/unetflow.js'), 'run', join(dir, 'segment-watch.yaml'), '--serve', '0'], { stdio: ['ignore', 'inherit', 'pipe'], cwd: dir });
let err = '';
const url = await new Promise<string>((ok, fail) => {
  run.stderr!.setEncoding('utf8').on('data', (d: string) => {
    process.stderr.write(d);
    err += d;
    const m = /live page: (http:\S+)/.exec(err);
    if (m) ok(m[1]);
  });
  run.once('exit', () => fail(new Error(`unetflow exited:\n${err}`)));
});

const browser = await openBrowser();
try {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(url);
  const drop = async (name: string, bytes: Buffer | string) => {
    const part = join(dir, 'microscope', `${name}.part`);
    await writeFile(part, bytes);
    await rename(part, join(dir, 'microscope', name));
  };
  const doneRows = (n: number) => page.waitForFunction((k) => document.querySelectorAll('#rows tr[data-status="done"]').length >= k, n, { timeout: 60_000 });
  // Nine acquisitions: each slice as it is and mirrored both ways (distinct content: a watch
  // run would skip a copy), a second apart, so the charts have a few buckets to draw.
  let n = 0;
  for (const variant of ['', 'h', 'v']) {
    for (const slice of ['00', '01', '02']) {
      const image = sharp(resolve(`fixtures/isbi2012/test/${slice}.png`));
      const bytes = await (variant === 'h' ? image.flop() : variant === 'v' ? image.flip() : image).toColourspace('b-w').png().toBuffer();
      await drop(`slice-${slice}${variant}.png`, bytes);
      if (n === 4) await drop('slice-01x.png', 'an interrupted transfer');
      await doneRows(++n);
      await page.waitForTimeout(1000);
    }
  }
  await page.waitForFunction(() => document.querySelectorAll('#rows tr[data-status="failed"]').length === 1);
  await page.waitForFunction(() => [...document.querySelectorAll('#gallery img')].every((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0));
  await page.locator('#failures summary').click();
  await page.waitForFunction(() => /"errors"/.test(document.querySelector('#failures pre')?.textContent ?? ''));
  await page.waitForTimeout(300); // the charts' last frame
  // The top of the page (header, gallery, charts, the failure and the newest rows): under 300 KB.
  const png = await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1700 } });
  // A 128-colour palette keeps the file small; the page is flat colours and greyscale images.
  await sharp(png).png({ palette: true, colours: 128, effort: 10 }).toFile(out);
  const { size } = await import('node:fs').then((fs) => fs.statSync(out));
  process.stderr.write(`wrote ${out} (${Math.round(size / 1024)} KB)\n`);
} finally {
  await browser.dispose();
  run.kill('SIGINT');
}
