import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { NodeFolder } from '../../../src/host/node/folder.js';
import { temporaryName } from '../../../src/host/folder.js';
import { tempDir } from '../../helpers/files.js';

test('a folder lists its regular files by relative path, sorted, subfolders only when recursive', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'day1'));
  await writeFile(join(dir, 'b.png'), 'bb');
  await writeFile(join(dir, 'a.png'), 'a');
  await writeFile(join(dir, 'day1', 'c.tif'), 'ccc');
  await symlink(join(dir, 'a.png'), join(dir, 'link.png'));
  await symlink(join(dir, 'day1'), join(dir, 'folder-link.png'));
  execFileSync('mkfifo', [join(dir, 'fifo.png')]);
  const folder = new NodeFolder(dir);
  assert.deepEqual((await folder.list()).map((e) => [e.path, e.size]), [['a.png', 1], ['b.png', 2], ['link.png', 1]]);
  assert.deepEqual((await folder.list({ recursive: true })).map((e) => e.path), ['a.png', 'b.png', 'day1/c.tif', 'link.png']);
  const s = await stat(join(dir, 'b.png'));
  assert.deepEqual(await folder.stat('b.png'), { size: 2, mtimeMs: s.mtimeMs });
  assert.equal(await folder.stat('missing.png'), undefined);
});

test('a folder reads bytes, writes atomically into new subfolders, removes, and refuses paths that leave it', async () => {
  const dir = await tempDir();
  const folder = new NodeFolder(dir);
  await folder.writeAtomic('out/x.mask.png', new Uint8Array([1, 2, 3]));
  assert.deepEqual([...(await folder.read('out/x.mask.png'))], [1, 2, 3]);
  await folder.writeAtomic('out/x.mask.png', 'replaced');
  assert.equal(await readFile(join(dir, 'out', 'x.mask.png'), 'utf8'), 'replaced');
  assert.deepEqual(await readdir(join(dir, 'out')), ['x.mask.png'], 'no temporary file is left behind');
  await folder.remove('out/x.mask.png');
  await folder.remove('out/x.mask.png');
  assert.deepEqual(await readdir(join(dir, 'out')), []);
  await assert.rejects(folder.read('../etc/passwd'), /not a file path inside the folder/);
  await assert.rejects(folder.writeAtomic('a/../../b', 'x'), /not a file path inside the folder/);
  await assert.rejects(folder.read('none.png'), { code: 'ENOENT' });
});

test('temporary names are the CLI\'s: hidden, ending in .tmp, and cut to fit 255 bytes', () => {
  assert.equal(temporaryName('x.mask.png', 7, 1), '.x.mask.png.7.1.tmp');
  const long = temporaryName('é'.repeat(200), 123456, 9);
  assert.ok(new TextEncoder().encode(long).length <= 255);
  assert.match(long, /^\.é+\.123456\.9\.tmp$/);
});
