import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
