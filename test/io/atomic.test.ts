import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { removeTemporaries, temporaryPath, truncateUtf8, writeFileAtomic } from '../../src/io/atomic.js';
import { tempDir } from '../helpers/files.js';

test('an atomic write leaves only the target, and a failed one nothing', async () => {
  const dir = await tempDir();
  await writeFileAtomic(join(dir, 'sub', 'a.txt'), 'hello');
  assert.deepEqual(await readdir(join(dir, 'sub')), ['a.txt']);
  await assert.rejects(writeFileAtomic(join(dir, 'sub', 'a.txt', 'below-a-file'), 'x'));
  assert.deepEqual(await readdir(join(dir, 'sub')), ['a.txt']);
});

test('every temporary of ours is removed whatever its pid, other files and locked subfolders are kept', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'day1'));
  await mkdir(join(dir, 'other-run'));
  const dead = join(dir, 'day1', '.a.mask.png.999999999.3.tmp'); // no such process
  const live = temporaryPath(join(dir, 'b.mask.png')); // this very process: still ours, still stale once we hold the lock
  const othersRun = join(dir, 'other-run', '.c.mask.png.1.1.tmp');
  await writeFile(dead, 'half');
  await writeFile(live, 'in progress');
  await writeFile(othersRun, 'another run writes here');
  await writeFile(join(dir, 'other-run', '.unetflow.lock'), '{}');
  await writeFile(join(dir, 'notes.tmp'), 'not ours');
  assert.deepEqual((await removeTemporaries(dir, '.unetflow.lock')).sort(), [live, dead].sort());
  assert.deepEqual((await readdir(dir)).sort(), ['day1', 'notes.tmp', 'other-run']);
  assert.deepEqual((await readdir(join(dir, 'other-run'))).sort(), [basename(othersRun), '.unetflow.lock'].sort());
  assert.deepEqual(await removeTemporaries(join(dir, 'missing')), []);
});

test('temporary names fit in 255 bytes and stay unique for a 250-character target name', async () => {
  const dir = await tempDir();
  for (const name of ['a'.repeat(250), 'é'.repeat(125) + '.png', '細胞'.repeat(40) + '.mask.png']) {
    const names = Array.from({ length: 50 }, () => basename(temporaryPath(join(dir, name))));
    assert.equal(new Set(names).size, 50, 'unique');
    for (const n of names) {
      assert.ok(Buffer.byteLength(n) <= 255, `${Buffer.byteLength(n)} bytes`);
      assert.match(n, /^\..+\.\d+\.\d+\.tmp$/);
      assert.ok(name.startsWith(n.slice(1).replace(/\.\d+\.\d+\.tmp$/, '')), 'a prefix of the target name, not a split character');
    }
    // And the file system accepts them: the write goes through its temporary.
    const target = join(dir, name);
    await writeFileAtomic(target, name);
    assert.equal(await readFile(target, 'utf8'), name);
  }
});

test('UTF-8 truncation never splits a character', () => {
  assert.equal(truncateUtf8('abc', 10), 'abc');
  assert.equal(truncateUtf8('aéb', 2), 'a'); // é is 2 bytes: it does not fit in the second byte
  assert.equal(truncateUtf8('aéb', 3), 'aé');
  assert.equal(truncateUtf8('😀x', 3), '');
});
