/**
 * The ledger's in-flight notes count the runs that died on a file, and its lines are
 * decoded one by one: a torn tail is mended, a damaged line set aside, a FIFO named as
 * the ledger refused without being opened for a blocking read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { inFlightFile, Ledger } from '../../src/pipeline/ledger.js';
import { tempDir } from '../helpers/files.js';

async function setUp() {
  const dir = await tempDir();
  const file = join(dir, 'ledger.jsonl');
  const input = join(dir, 'a.png');
  await writeFile(input, 'content');
  return { dir, file, input };
}

test('a started note left open counts one death per run; a release or an outcome closes it and counts nothing', async () => {
  const { dir, file, input } = await setUp();
  for (let deaths = 0; deaths < 3; deaths++) {
    const ledger = await Ledger.open(file, dir);
    const { fingerprint } = await ledger.check(input);
    assert.equal(ledger.crashes(input, fingerprint), deaths);
    await ledger.start(input, fingerprint); // and the process dies: no release, no record
  }
  const released = await Ledger.open(file, dir);
  const { fingerprint } = await released.check(input);
  await released.start(input, fingerprint);
  await released.release(input);
  assert.equal((await Ledger.open(file, dir)).crashes(input, fingerprint), 3, 'a release is no death, and forgets none');

  const done = await Ledger.open(file, dir);
  await done.start(input, fingerprint);
  await done.record(input, { ...fingerprint, status: 'done', outputs: {} });
  const after = await Ledger.open(file, dir);
  assert.equal(after.crashes(input, fingerprint), 0);
  assert.ok(!existsSync(inFlightFile(file)), 'no note open: no in-flight file');
  assert.deepEqual((await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).status), ['done'], 'the ledger holds outcomes only');
});

test('deaths are counted per content: a changed file starts again from none', async () => {
  const { dir, file, input } = await setUp();
  const ledger = await Ledger.open(file, dir);
  await ledger.start(input, (await ledger.check(input)).fingerprint);
  await writeFile(input, 'other content');
  const reopened = await Ledger.open(file, dir);
  assert.equal(reopened.crashes(input, (await reopened.check(input)).fingerprint), 0);
});

test('a last line missing only its newline is kept and completed; a torn one is removed; both are said', async () => {
  const { dir, file, input } = await setUp();
  const ledger = await Ledger.open(file, dir);
  const entry = await ledger.record(input, { ...(await ledger.check(input)).fingerprint, status: 'done', outputs: {} });
  await writeFile(file, JSON.stringify(entry));
  const kept = await Ledger.open(file, dir);
  assert.equal(kept.get(input)?.status, 'done');
  assert.deepEqual(kept.recovered, [`ledger ${file} line 1: its newline was missing (a run stopped while appending it): added`]);
  assert.equal(await readFile(file, 'utf8'), JSON.stringify(entry) + '\n');

  await appendFile(file, '{"path":"b.png","status":"do');
  const torn = await Ledger.open(file, dir);
  assert.match(torn.recovered[0], /line 2: torn \(28 bytes without a newline/);
  assert.equal(await readFile(file, 'utf8'), JSON.stringify(entry) + '\n');
});

test('a line that does not match the codec is named by its number and field, and set aside', async () => {
  const { dir, file } = await setUp();
  await writeFile(file, '{"path":"a.png","status":"done","size":-1,"mtimeMs":0,"outputs":{},"time":"t"}\n[1,2]\n');
  const ledger = await Ledger.open(file, dir);
  assert.equal(ledger.size, 0);
  assert.match(ledger.recovered[0], /^ledger \S+ line 1: unreadable, skipped \(size: expected a non-negative number, got -1\); kept in \S+\.unreadable;/);
  assert.match(ledger.recovered[1], /^ledger \S+ line 2: unreadable, skipped \(/);
  assert.equal(await readFile(file, 'utf8'), '');
  assert.equal((await Ledger.open(file, dir)).recovered.length, 0, 'said once');
});

test('a FIFO given as the ledger is refused as the pipeline\'s fault, without waiting for a writer', async (t) => {
  if (process.platform === 'win32') return t.skip('no FIFOs on Windows');
  const { dir, file } = await setUp();
  assert.equal(spawnSync('mkfifo', [file]).status, 0);
  await assert.rejects(Ledger.open(file, dir), (error: unknown) => error instanceof ConfigError && /is a FIFO \(named pipe\), not a file/.test(error.message));
});
