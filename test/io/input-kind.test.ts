import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inputKind, NotAnInputError, openRegular } from '../../src/io/input-kind.js';
import { hashFile } from '../../src/pipeline/ledger.js';
import { tempDir } from '../helpers/files.js';

test('regular files and links to them are inputs; FIFOs, devices, folders, loops and dangling links are not, and say what they are', async (t) => {
  if (process.platform === 'win32') return t.skip('no FIFOs or /dev/zero on Windows');
  const dir = await tempDir();
  await writeFile(join(dir, 'file'), 'abc');
  await symlink(join(dir, 'file'), join(dir, 'to-file'));
  assert.equal(spawnSync('mkfifo', [join(dir, 'fifo')]).status, 0);
  await symlink('/dev/zero', join(dir, 'zero'));
  await mkdir(join(dir, 'folder'));
  await symlink('loop', join(dir, 'loop'));
  await symlink(join(dir, 'missing'), join(dir, 'dangling'));
  const kinds = Object.fromEntries(await Promise.all(['file', 'to-file', 'fifo', 'zero', 'folder', 'loop', 'dangling'].map(async (n) => [n, await inputKind(join(dir, n))])));
  assert.deepEqual(kinds, {
    file: { regular: true, size: 3 },
    'to-file': { regular: true, size: 3 },
    fifo: { regular: false, what: 'a FIFO (named pipe)' },
    zero: { regular: false, what: 'a symbolic link to a character device' },
    folder: { regular: false, what: 'a folder' },
    loop: { regular: false, what: 'a symbolic link loop' },
    dangling: { regular: false, what: 'a symbolic link whose target is missing' },
  });
});

test('a FIFO swapped in after a check is refused at once when opened, never waited on', async (t) => {
  if (process.platform === 'win32') return t.skip('no FIFOs on Windows');
  const dir = await tempDir();
  assert.equal(spawnSync('mkfifo', [join(dir, 'fifo')]).status, 0);
  await rename(join(dir, 'fifo'), join(dir, 'x.png'));
  await assert.rejects(openRegular(join(dir, 'x.png')), (e: unknown) => e instanceof NotAnInputError && e.what === 'a FIFO (named pipe)');
  await assert.rejects(hashFile(join(dir, 'x.png')), NotAnInputError);
  await symlink('/dev/zero', join(dir, 'z.png'));
  await assert.rejects(hashFile(join(dir, 'z.png')), (e: unknown) => e instanceof NotAnInputError && e.what === 'a character device');
});
