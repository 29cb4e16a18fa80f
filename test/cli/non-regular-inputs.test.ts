/**
 * Paths named like images that are not regular files: a FIFO (opening it waits for a
 * writer), a link to /dev/zero (read forever), a folder, a link loop, a link to a FIFO.
 * Each is said once and skipped, and never opened; the good files around them are done.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tempDir, writePng } from '../helpers/files.js';
import { killWatchRuns, startWatchRun } from '../helpers/watch-cli.js';

const BIN = resolve('bin/unetflow.js');

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0, `mkfifo ${path}: ${r.stderr}`);
}

/** A folder holding one good image and one of each kind of non-input, all named *.png. */
async function hostileFolder(dir: string): Promise<Record<string, RegExp>> {
  await mkdir(dir, { recursive: true });
  await writePng(join(dir, 'good.png'), 1);
  mkfifo(join(dir, 'a-fifo.png'));
  mkfifo(join(dir, 'b-fifo.png'));
  mkfifo(join(dir, '..', 'elsewhere-fifo'));
  await symlink('/dev/zero', join(dir, 'zero.png'));
  await symlink(join(dir, '..', 'elsewhere-fifo'), join(dir, 'to-fifo.png'));
  await symlink('loop.png', join(dir, 'loop.png'));
  await mkdir(join(dir, 'folder.png'));
  return {
    'a-fifo.png': /not an image file but a FIFO \(named pipe\)/,
    'b-fifo.png': /not an image file but a FIFO \(named pipe\)/,
    'zero.png': /not an image file but a symbolic link to a character device/,
    'to-fifo.png': /not an image file but a symbolic link to a FIFO \(named pipe\)/,
    'loop.png': /not an image file but a symbolic link loop/,
    'folder.png': /not an image file but a folder/,
  };
}

function saidOnce(output: string, path: string, what: RegExp): void {
  const lines = output.split('\n').filter((l) => l.includes(`${path}:`));
  assert.equal(lines.length, 1, `one line about ${path}:\n${output}`);
  assert.match(lines[0], what);
  assert.match(lines[0], /^warning: /);
}

test('a watch run skips FIFOs, device links, folders and link loops named like images, says so once each, and stops promptly', { timeout: 120000 }, async (t) => {
  if (process.platform === 'win32') return t.skip('no FIFOs or /dev/zero on Windows');
  t.after(killWatchRuns);
  const dir = await tempDir('unetflow-cli-');
  const kinds = await hostileFolder(join(dir, 'in'));
  const pipeline = join(dir, 'w.yaml');
  await writeFile(pipeline, 'version: 1\nname: w\nsource: { watch: { dir: in, stableMs: 100 } }\nsteps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n');

  const run = startWatchRun(pipeline);
  await run.until(/watching /);
  await run.until(/done +\S*good\.png/);
  // Arriving while watched: a FIFO, then a good file, which the FIFOs must not keep from being done.
  mkfifo(join(dir, 'in', 'late-fifo.png'));
  await run.until(/late-fifo\.png: not an image file/);
  await writePng(join(dir, 'in', 'later.png'), 2);
  await run.until(/done +\S*later\.png/);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.output());

  const output = run.output();
  for (const [name, what] of Object.entries(kinds)) saidOnce(output, join(dir, 'in', name), what);
  saidOnce(output, join(dir, 'in', 'late-fifo.png'), /not an image file but a FIFO/);
  assert.ok(existsSync(join(dir, 'out', 'good.image.png')) && existsSync(join(dir, 'out', 'later.image.png')));
  assert.doesNotMatch(output, /FAILED/, 'a path that is no input is not a failed input');
});

test('files and pairs sources skip the same non-inputs, say so once each, and finish', { timeout: 60000 }, async (t) => {
  if (process.platform === 'win32') return t.skip('no FIFOs or /dev/zero on Windows');
  const dir = await tempDir('unetflow-cli-');
  const kinds = await hostileFolder(join(dir, 'in'));
  await writeFile(join(dir, 'f.yaml'), 'version: 1\nname: f\nsource: { files: in }\nsteps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n');
  const files = spawnSync(process.execPath, [BIN, 'run', join(dir, 'f.yaml')], { encoding: 'utf8', timeout: 50000 });
  assert.equal(files.status, 0, files.stderr);
  for (const [name, what] of Object.entries(kinds)) saidOnce(files.stderr, join(dir, 'in', name), what);
  assert.match(files.stdout, /1 done, 0 failed/);

  await mkdir(join(dir, 'labels'));
  await writePng(join(dir, 'labels', 'good.png'), 3);
  mkfifo(join(dir, 'labels', 'zz-fifo.png'));
  await writeFile(join(dir, 'p.yaml'), 'version: 1\nname: p\nsource: { pairs: { images: in, labels: labels } }\nsteps:\n  - load: {}\n  - save: { dir: out-pairs, outputs: [image] }\n');
  const pairs = spawnSync(process.execPath, [BIN, 'run', join(dir, 'p.yaml')], { encoding: 'utf8', timeout: 50000 });
  assert.equal(pairs.status, 0, pairs.stderr);
  saidOnce(pairs.stderr, join(dir, 'in', 'a-fifo.png'), /not an image file but a FIFO/);
  saidOnce(pairs.stderr, join(dir, 'labels', 'zz-fifo.png'), /not an image file but a FIFO/);
  assert.match(pairs.stdout, /1 done, 0 failed/);
});
