/**
 * An input that disappears while it is being read (here: a 3-page TIFF moved away once
 * its first page is read, by a step after `load`, as a microscope's software might move
 * it) is nobody's failure: it is not recorded as failed, and when it is put back
 * unchanged the watch run takes it. A file that did fail is skipped at the next start,
 * and the run says so, once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { pngBytes, tempDir, writePng } from '../helpers/files.js';
import { killWatchRuns, startWatchRun } from '../helpers/watch-cli.js';

test('an input gone while read is said to have vanished, not recorded failed, and done once it is put back', { timeout: 120000 }, async (t) => {
  t.after(killWatchRuns);
  const dir = await tempDir('unetflow-cli-');
  await mkdir(join(dir, 'in'));
  const marker = join(dir, 'vanish-next');
  const aside = join(dir, 'aside.png');
  const rxjs = import.meta.resolve('rxjs');
  await writeFile(
    join(dir, 'vanish.mjs'),
    `import { map } from ${JSON.stringify(rxjs)};\nimport { existsSync, renameSync, rmSync } from 'node:fs';\n` +
      `export default { name: 'vanish', params: { decode: (u) => ({ _tag: 'Right', right: u }) },\n` +
      `  create: () => map((s) => { if (s.source.page === 0 && existsSync(${JSON.stringify(marker)})) { rmSync(${JSON.stringify(marker)}); renameSync(s.source.path, ${JSON.stringify(aside)}); } return s; }) };\n`,
  );
  const pipeline = join(dir, 'w.yaml');
  await writeFile(pipeline, 'version: 1\nname: w\nuse: ./vanish.mjs\nconcurrency: 1\nsource: { watch: { dir: in, stableMs: 100 } }\nsteps:\n  - load: {}\n  - vanish: {}\n  - save: { dir: out, outputs: [image] }\n');
  await writeFile(marker, '');
  const a = join(dir, 'in', 'a.tif');
  const pages = await Promise.all([1, 2, 3].map((seed) => pngBytes(seed)));
  await writeFile(a, await sharp(pages, { join: { animated: true } }).tiff().toBuffer());

  const run = startWatchRun(pipeline);
  await run.until(/a\.tif: vanished while it was being read/);
  assert.match(run.output(), new RegExp(`^warning: ${a}: vanished while it was being read \\(at steps\\[0\\]\\.load\\): not recorded, and taken again if it comes back$`, 'm'));
  assert.ok(!existsSync(join(dir, 'out', 'a.error.json')), 'no error report for a file that went');
  assert.ok(!existsSync(join(dir, 'out', 'a.p0.image.png')), 'no outputs of a file read in part');
  await rename(aside, a); // put back as it was: same bytes, same mtime
  await run.until(/done +\S*a\.tif/);
  await writeFile(join(dir, 'in', 'bad.png'), 'not an image');
  await run.until(/FAILED .*bad\.png/);
  run.child.kill('SIGTERM');
  await run.exited;
  assert.doesNotMatch(run.output(), /FAILED .*a\.tif/);
  assert.ok(existsSync(join(dir, 'out', 'a.p2.image.png')));
  const entries = (await readFile(join(dir, 'out', '.unetflow-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(entries.map((e) => [e.path, e.status]), [['a.tif', 'done'], ['bad.png', 'failed']]);

  // The next start skips bad.png, unchanged, and says so (once), rather than nothing.
  const again = startWatchRun(pipeline);
  await again.until(/bad\.png: skipped, it failed before and is unchanged/);
  await writePng(join(dir, 'in', 'c.png'), 3);
  await again.until(/done +\S*c\.png/);
  again.child.kill('SIGTERM');
  await again.exited;
  const notes = again.output().split('\n').filter((l) => l.includes('bad.png'));
  assert.deepEqual(notes, [`${join(dir, 'in', 'bad.png')}: skipped, it failed before and is unchanged (steps[0].load: ${join(dir, 'in', 'bad.png')}: not a readable image: expected PNG, JPEG or TIFF): not retried until it changes`]);
  assert.doesNotMatch(again.output(), /done +\S*a\.tif/, 'a.tif was done before');
});
