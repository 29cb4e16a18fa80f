import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, copyFile, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
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

test('check says why a file is skipped: done, failed before and unchanged, or the same content as a done file', async () => {
  const dir = await tempDir();
  const ledger = await Ledger.open(join(dir, 'ledger.jsonl'), dir);
  const path = (name: string) => join(dir, name);
  await writeFile(path('good.png'), 'good bytes');
  await writeFile(path('bad.png'), 'bad bytes');
  assert.equal((await ledger.check(path('good.png'))).reason, 'new');
  const good = await ledger.check(path('good.png'));
  await ledger.record(path('good.png'), { ...good.fingerprint, status: 'done', outputs: { mask: '/out/good.mask.png' } });
  await ledger.record(path('bad.png'), { ...(await ledger.check(path('bad.png'))).fingerprint, status: 'failed', outputs: {}, error: 'corrupt' });

  assert.deepEqual(pick(await ledger.check(path('good.png'))), { process: false, reason: 'done', entry: 'good.png' });
  assert.deepEqual(pick(await ledger.check(path('bad.png'))), { process: false, reason: 'failed-before', entry: 'bad.png' });
  await writeFile(path('bad.png'), 'fixed bytes');
  assert.deepEqual(pick(await ledger.check(path('bad.png'))), { process: true, reason: 'changed' });

  // Renamed (or copied): an unknown path with a done file's content.
  await rename(path('good.png'), path('renamed.png'));
  const renamed = await ledger.check(path('renamed.png'));
  assert.deepEqual(pick(renamed), { process: false, reason: 'same-content', entry: 'good.png' });
  assert.ok(!renamed.process);
  const entry = await ledger.recordSameContent(path('renamed.png'), renamed.fingerprint, renamed.entry);
  assert.deepEqual({ ...entry, time: undefined, mtimeMs: undefined }, {
    path: 'renamed.png', size: 10, hash: createHash('sha256').update('good bytes').digest('hex'),
    status: 'done', outputs: { mask: '/out/good.mask.png' }, sameAs: 'good.png', time: undefined, mtimeMs: undefined,
  });
  // A copy of the copy names the first original, and the record survives a restart.
  await copyFile(path('renamed.png'), path('copy-of-renamed.png'));
  const reopened = await Ledger.open(join(dir, 'ledger.jsonl'), dir);
  assert.deepEqual(pick(await reopened.check(path('renamed.png'))), { process: false, reason: 'done', entry: 'renamed.png' });
  const copy = await reopened.check(path('copy-of-renamed.png'));
  assert.ok(!copy.process);
  assert.equal((await reopened.recordSameContent(path('copy-of-renamed.png'), copy.fingerprint, copy.entry)).sameAs, 'good.png');

  // A failed file's content is not "done": an unknown path with it is processed.
  await writeFile(path('new-with-failed-content.png'), 'bad bytes');
  assert.equal((await reopened.check(path('new-with-failed-content.png'))).reason, 'new');
  // A known path whose content changed to a done file's is processed: its own outputs are of the old content.
  await writeFile(path('bad.png'), 'good bytes');
  assert.equal((await reopened.check(path('bad.png'))).reason, 'changed');
});

test('a ledger written before check reasons and sameAs existed still loads and decides alike', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'a.png'), 'a');
  await writeFile(join(dir, 'b.png'), 'b');
  const a = await stat(join(dir, 'a.png'));
  const hashOf = (s: string) => createHash('sha256').update(s).digest('hex');
  // Lines exactly as the previous version wrote them.
  await writeFile(
    join(dir, 'ledger.jsonl'),
    `{"path":"a.png","size":1,"mtimeMs":${a.mtimeMs},"hash":"${hashOf('a')}","status":"done","outputs":{"image":"/o/a.image.png"},"time":"2026-11-01T00:00:00.000Z"}\n` +
      `{"path":"b.png","size":1,"mtimeMs":1,"hash":"${hashOf('b')}","status":"failed","outputs":{},"error":"corrupt","time":"2026-11-01T00:00:00.000Z"}\n`,
  );
  const ledger = await Ledger.open(join(dir, 'ledger.jsonl'), dir);
  assert.equal(ledger.size, 2);
  assert.equal((await ledger.check(join(dir, 'a.png'))).reason, 'done');
  assert.equal((await ledger.check(join(dir, 'b.png'))).reason, 'failed-before');
  await copyFile(join(dir, 'a.png'), join(dir, 'a-copy.png'));
  assert.equal((await ledger.check(join(dir, 'a-copy.png'))).reason, 'same-content');
});

function pick(check: Awaited<ReturnType<Ledger['check']>>) {
  return check.process ? { process: true, reason: check.reason } : { process: false, reason: check.reason, entry: check.entry.path };
}

test("a file whose own line was deleted to redo it, but whose copy's line names it, is recorded as the copy's, never as itself", async () => {
  const dir = await tempDir();
  const ledger = await Ledger.open(join(dir, 'ledger.jsonl'), dir);
  await writeFile(join(dir, 'a.png'), 'a');
  await copyFile(join(dir, 'a.png'), join(dir, 'b.png'));
  await ledger.record(join(dir, 'b.png'), { ...(await ledger.check(join(dir, 'b.png'))).fingerprint, status: 'done', outputs: {}, sameAs: 'a.png' });
  const check = await ledger.check(join(dir, 'a.png'));
  assert.ok(!check.process && check.reason === 'same-content');
  assert.equal((await ledger.recordSameContent(join(dir, 'a.png'), check.fingerprint, check.entry)).sameAs, 'b.png');
});
