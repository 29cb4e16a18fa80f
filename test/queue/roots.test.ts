import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { insideRoot, keyOf, OutsideRootError } from '../../src/queue/roots.js';
import { tempDir } from '../helpers/files.js';

async function folders() {
  const dir = await tempDir('unetflow-roots-');
  await mkdir(join(dir, 'in', 'day1'), { recursive: true });
  await writeFile(join(dir, 'in', 'day1', 'a.png'), 'x');
  await writeFile(join(dir, 'secret.png'), 'x');
  await symlink(join(dir, 'secret.png'), join(dir, 'in', 'link.png'));
  await symlink(join(dir, 'in', 'day1', 'a.png'), join(dir, 'in', 'inner-link.png'));
  return dir;
}

test('a path inside the source folder resolves there, and keyOf gives it back', async () => {
  const dir = await folders();
  const path = await insideRoot(join(dir, 'in'), 'day1/a.png');
  assert.equal(path, join(dir, 'in', 'day1', 'a.png'));
  assert.equal(keyOf(join(dir, 'in'), path), 'day1/a.png');
});

test('a link to a file inside the folder is allowed', async () => {
  const dir = await folders();
  assert.equal(await insideRoot(join(dir, 'in'), 'inner-link.png'), join(dir, 'in', 'inner-link.png'));
});

test('paths leading outside the source folder are refused: .., absolute, the folder itself, a link out', async () => {
  const dir = await folders();
  for (const rel of ['../secret.png', 'day1/../../secret.png', join(dir, 'secret.png'), '', '.', 'link.png']) {
    await assert.rejects(insideRoot(join(dir, 'in'), rel), (e: Error) => {
      assert.ok(e instanceof OutsideRootError, `${rel}: ${e.message}`);
      assert.match(e.message, /refused, .*this worker reads only inside/);
      return true;
    });
  }
});

test('another spelling of a path inside the folder, a folder and a FIFO are refused, and a link to a device is a link out', async () => {
  const dir = await folders();
  spawnSync('mkfifo', [join(dir, 'in', 'pipe.png')]);
  await symlink('/dev/zero', join(dir, 'in', 'zero.png'));
  const cases: [string, RegExp][] = [
    ['./day1/a.png', /"\.\/day1\/a\.png": refused, not a path as producers write them \("day1\/a\.png"\)$/],
    ['day1//a.png', /refused, not a path as producers write them/],
    ['day1/../day1/a.png', /refused, not a path as producers write them/],
    ['day1', /"day1": refused, it is a folder, not a regular file$/],
    ['pipe.png', /"pipe\.png": refused, it is a FIFO \(named pipe\), not a regular file$/],
  ];
  for (const [rel, message] of cases) await assert.rejects(insideRoot(join(dir, 'in'), rel), message, rel);
  // /dev/zero is outside the folder: refused as a link out before anything reads it.
  await assert.rejects(insideRoot(join(dir, 'in'), 'zero.png'), /refused, it is a link to \/dev\/zero, outside the source folder/);
});
