import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ledger } from '../../src/pipeline/ledger.js';
import { tempDir } from '../helpers/files.js';

test('a recorded file is not processed again until its content changes', async () => {
  const dir = await tempDir();
  const file = join(dir, 'a.png');
  await writeFile(file, 'one');
  const ledger = await Ledger.open(join(dir, 'out', 'ledger.jsonl'), dir);
  const first = await ledger.check(file);
  assert.equal(first.process, true);
  await ledger.record(file, { ...first.fingerprint, status: 'done', outputs: { mask: 'x' } });
  assert.equal((await ledger.check(file)).process, false);

  // Touched but identical: the hash decides, and it is not redone.
  await utimes(file, new Date(), new Date(Date.now() + 5000));
  assert.equal((await ledger.check(file)).process, false);
  await writeFile(file, 'two');
  assert.equal((await ledger.check(file)).process, true);
});

test('the ledger survives a restart and ignores a line torn by a crash', async () => {
  const dir = await tempDir();
  const path = join(dir, 'ledger.jsonl');
  await writeFile(join(dir, 'a.png'), 'a');
  await writeFile(join(dir, 'b.png'), 'b');
  const ledger = await Ledger.open(path, dir);
  await ledger.record(join(dir, 'a.png'), { ...(await ledger.check(join(dir, 'a.png'))).fingerprint, status: 'done', outputs: {} });
  await appendFile(path, '{"path":"b.png","status":"do'); // crash mid-line
  const reopened = await Ledger.open(path, dir);
  assert.equal(reopened.size, 1);
  assert.equal(reopened.get(join(dir, 'a.png'))?.status, 'done');
  assert.equal((await reopened.check(join(dir, 'b.png'))).process, true);
  assert.match(await readFile(path, 'utf8'), /"path":"a\.png"/);
});

test('keys are paths relative to the watched folder, so the folder can move', async () => {
  const dir = await tempDir();
  const ledger = await Ledger.open(join(dir, 'l.jsonl'), dir);
  assert.equal(ledger.key(join(dir, 'day1', 'x.tif')), 'day1/x.tif');
});
