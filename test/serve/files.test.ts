import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServedFolders } from '../../src/serve/files.js';
import { tempDir } from '../helpers/files.js';

/** An output folder with a file, a subfolder, a dot-file, and links pointing in and out; a secret beside it. */
async function layout() {
  const top = await realpath(await tempDir('unetflow-files-'));
  const out = join(top, 'out');
  await mkdir(join(out, 'day 1'), { recursive: true });
  await writeFile(join(out, 'a.mask.png'), 'A');
  await writeFile(join(out, 'day 1', 'b #1.overlay.png'), 'B');
  await writeFile(join(out, '.unetflow.lock'), 'pid');
  await writeFile(join(top, 'secret.txt'), 'S');
  await symlink(join(top, 'secret.txt'), join(out, 'leak.png'));
  await symlink(top, join(out, 'up'));
  await symlink(join(out, 'a.mask.png'), join(out, 'alias.png'));
  return { top, out, folders: new ServedFolders([out]) };
}

test('files inside the output folder are served by their URL path, subfolders and odd names included', async () => {
  const { out, folders } = await layout();
  const url = folders.urlPath(join(out, 'day 1', 'b #1.overlay.png'));
  assert.equal(url, '0/day%201/b%20%231.overlay.png');
  assert.equal((await folders.resolve(url!))?.path, join(out, 'day 1', 'b #1.overlay.png'));
  assert.equal((await folders.resolve('0/a.mask.png'))?.size, 1);
  assert.equal((await folders.resolve('0/alias.png'))?.path, join(out, 'a.mask.png'), 'a link that stays inside is followed');
});

test('paths outside the output folder have no URL, and no request reaches them', async () => {
  const { top, out, folders } = await layout();
  assert.equal(folders.urlPath(join(top, 'secret.txt')), undefined);
  assert.equal(folders.urlPath(out), undefined);
  const refused = [
    '0/../secret.txt',
    '0/..%2fsecret.txt',
    '0/%2e%2e/secret.txt',
    '0/%2e%2e%2fsecret.txt',
    '0/%2E%2E%2Fsecret.txt',
    '0/..%5csecret.txt',
    '0/day%201/..%2f..%2fsecret.txt',
    `0/${encodeURIComponent(join(top, 'secret.txt'))}`,
    '0/a.mask.png%00.txt',
    '0/%E0%A4%A', // not valid percent-encoding
    '0/.unetflow.lock',
    '0/leak.png', // a link out of the folder
    '0/up/secret.txt', // a linked folder out of it
    '0/day%201', // a folder
    '0/',
    '0',
    '1/a.mask.png', // no such root
    '-1/a.mask.png',
    'x/a.mask.png',
    '0/missing.png',
  ];
  for (const path of refused) assert.equal(await folders.resolve(path), undefined, path);
});
