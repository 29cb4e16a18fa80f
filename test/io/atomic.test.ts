import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeStaleTemporaries, temporaryPath, writeFileAtomic } from '../../src/io/atomic.js';
import { tempDir } from '../helpers/files.js';

test('an atomic write leaves only the target, and a failed one nothing', async () => {
  const dir = await tempDir();
  await writeFileAtomic(join(dir, 'sub', 'a.txt'), 'hello');
  assert.deepEqual(await readdir(join(dir, 'sub')), ['a.txt']);
  await assert.rejects(writeFileAtomic(join(dir, 'sub', 'a.txt', 'below-a-file'), 'x'));
  assert.deepEqual(await readdir(join(dir, 'sub')), ['a.txt']);
});

test('temporaries left by dead writers are removed; those of live ones and other files are kept', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'day1'));
  const dead = join(dir, 'day1', '.a.mask.png.999999999.3.tmp'); // no such process
  const live = temporaryPath(join(dir, 'b.mask.png')); // this process
  await writeFile(dead, 'half');
  await writeFile(live, 'in progress');
  await writeFile(join(dir, 'notes.tmp'), 'not ours');
  assert.deepEqual(await removeStaleTemporaries(dir), [dead]);
  assert.deepEqual((await readdir(dir)).sort(), [live.split('/').pop(), 'day1', 'notes.tmp'].sort());
  assert.deepEqual(await removeStaleTemporaries(join(dir, 'missing')), []);
});
