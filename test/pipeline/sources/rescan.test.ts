import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { globToRegExp, IMAGE_PATTERN } from '../../../src/io/glob.js';
import { Rescan } from '../../../src/pipeline/sources/rescan.js';
import { tempDir } from '../../helpers/files.js';
import { sleep } from '../../helpers/wait.js';

/** Rescans until `rescan` hands something on, or `ms` pass. */
async function rescanUntilFound(rescan: Rescan, ms = 10000): Promise<string[]> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const found = await rescan.missed();
    if (found.length) return found;
    await sleep(200);
  }
  return [];
}

test('a rescan hands on the image files the watcher did not report, once held still, and nothing else', { timeout: 30000 }, async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'sub'));
  for (const name of ['reported.png', 'missed.png', 'notes.txt', 'copying.png.part', '.hidden.png', 'sub/deep.png']) await writeFile(join(dir, name), 'x');
  const rescan = new Rescan(dir, globToRegExp(IMAGE_PATTERN), false, 0);
  assert.equal(await rescan.watcherReports(join(dir, 'reported.png')), true);
  assert.deepEqual(await rescan.missed(), [], 'first seen: left to the watcher for a while');
  assert.deepEqual(await rescanUntilFound(rescan), [join(dir, 'missed.png')]);
  assert.deepEqual(await rescan.missed(), [], 'handed on once');
  assert.equal(await rescan.watcherReports(join(dir, 'missed.png')), false, 'the watcher reporting it late, unchanged, is not a second file');
  await appendFile(join(dir, 'missed.png'), 'more');
  assert.equal(await rescan.watcherReports(join(dir, 'missed.png')), true, 'changed since: handed on again');
});

test('a file that keeps growing is not taken by a rescan until it stops', { timeout: 30000 }, async () => {
  const dir = await tempDir();
  const file = join(dir, 'growing.tif');
  await writeFile(file, 'x');
  const rescan = new Rescan(dir, globToRegExp(IMAGE_PATTERN), false, 1000);
  const growUntil = Date.now() + 4000;
  while (Date.now() < growUntil) {
    assert.deepEqual(await rescan.missed(), []);
    await appendFile(file, 'x');
    await sleep(300);
  }
  const stopped = Date.now();
  assert.deepEqual(await rescanUntilFound(rescan), [file]);
  assert.ok(Date.now() - stopped >= 1000, 'held still for stableMs first');
});

test('a recursive rescan looks into subfolders', { timeout: 30000 }, async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'a', 'b'), { recursive: true });
  await writeFile(join(dir, 'a', 'b', 'deep.png'), 'x');
  const rescan = new Rescan(dir, globToRegExp(`**/${IMAGE_PATTERN}`), true, 0);
  await rescan.missed();
  assert.deepEqual(await rescanUntilFound(rescan), [join(dir, 'a', 'b', 'deep.png')]);
});
