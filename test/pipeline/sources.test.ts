/**
 * `files` and `pairs` sources follow symbolic links, as watch mode does: to files, and
 * in recursive sources to folders, once each however the links loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { runPipeline } from '../../src/pipeline/run.js';
import { readImage } from '../../src/io/read.js';
import { collect, ofType, tempDir, writePng } from '../helpers/files.js';
import { pixels } from '../helpers/images.js';

const save = { save: { dir: 'out', outputs: ['image'] } };

test('a files source processes images reached through symbolic links, and says which links lead nowhere', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await mkdir(join(dir, 'store', 'plate1'), { recursive: true });
  await writePng(join(dir, 'in', 'real.png'), 1);
  await writePng(join(dir, 'store', 'b.png'), 2);
  await writePng(join(dir, 'store', 'plate1', 'c.png'), 3);
  await symlink(join(dir, 'store', 'b.png'), join(dir, 'in', 'linked.png'));
  await symlink(join(dir, 'store', 'plate1'), join(dir, 'in', 'plate1')); // a linked folder
  await symlink(join(dir, 'in'), join(dir, 'store', 'plate1', 'back-to-in')); // a cycle through it
  await symlink(join(dir, 'store', 'missing.png'), join(dir, 'in', 'gone.png'));

  const flat = await collect(runPipeline({ version: 1, name: 'flat', source: { files: 'in' }, steps: [{ load: {} }, save] }, { baseDir: dir }));
  assert.deepEqual(ofType(flat, 'file-done').map((e) => e.file).sort(), [join(dir, 'in', 'linked.png'), join(dir, 'in', 'real.png')]);
  assert.deepEqual(ofType(flat, 'log').filter((e) => e.level === 'warn').map((e) => e.message), [`${join(dir, 'in', 'gone.png')}: skipped, a symbolic link whose target is missing`]);
  assert.deepEqual(pixels(await readImage(join(dir, 'out', 'linked.image.png'))), pixels(await readImage(join(dir, 'store', 'b.png'))));

  const deep = await collect(runPipeline({ version: 1, name: 'deep', source: { files: { dir: 'in', recursive: true } }, steps: [{ load: {} }, { save: { dir: 'out-deep', outputs: ['image'] } }] }, { baseDir: dir }));
  assert.deepEqual(ofType(deep, 'file-done').map((e) => e.file).sort(), [join(dir, 'in', 'linked.png'), join(dir, 'in', 'plate1', 'c.png'), join(dir, 'in', 'real.png')]);
  assert.equal(ofType(deep, 'started')[0].total, 3, 'the folder reached again through the cycle is listed once');
  assert.deepEqual(await readdir(join(dir, 'out-deep', 'plate1')), ['c.image.png']);
});

test('a pairs source matches images and labels that are symbolic links', async () => {
  const dir = await tempDir();
  for (const d of ['images', 'labels', 'store']) await mkdir(join(dir, d));
  await writePng(join(dir, 'store', 'img.png'), 1);
  await writePng(join(dir, 'store', 'lab.png'), 2);
  await symlink(join(dir, 'store', 'img.png'), join(dir, 'images', '01.png'));
  await symlink(join(dir, 'store', 'lab.png'), join(dir, 'labels', '01.png'));
  const events = await collect(
    runPipeline({ version: 1, name: 'p', source: { pairs: { images: 'images', labels: 'labels' } }, steps: [{ load: {} }, { save: { dir: 'out', outputs: ['label'] } }] }, { baseDir: dir }),
  );
  assert.deepEqual(ofType(events, 'file-done').map((e) => e.id), ['01']);
  assert.deepEqual(pixels(await readImage(join(dir, 'out', '01.label.png'))), pixels(await readImage(join(dir, 'store', 'lab.png'))));
});

test('a files source naming one file that is a FIFO says what it is instead of reading it', async (t) => {
  if (process.platform === 'win32') return t.skip('no FIFOs on Windows');
  const dir = await tempDir();
  assert.equal(spawnSync('mkfifo', [join(dir, 'x.png')]).status, 0);
  const events = await collect(runPipeline({ version: 1, name: 'one', source: { files: 'x.png' }, steps: [{ load: {} }, save] }, { baseDir: dir })).catch((e: Error) => e);
  assert.match(String(events), new RegExp(`source: ${join(dir, 'x.png')}: not an image file but a FIFO \\(named pipe\\)`));
});
