import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firstValueFrom, filter, ReplaySubject } from 'rxjs';
import { ledgerEvents, locateLedger } from '../../src/serve/ledger-source.js';
import type { ServeEvent } from '../../src/serve/state.js';
import { tempDir } from '../helpers/files.js';

const line = (entry: object) => JSON.stringify({ size: 1, mtimeMs: 1, hash: 'h', outputs: {}, time: '2026-11-30T10:00:00.000Z', ...entry }) + '\n';

/** Follows a ledger, keeping every event, until the test ends. */
function follow(ledger: string) {
  const seen = new ReplaySubject<ServeEvent>();
  const subscription = ledgerEvents(ledger, { pollMs: 20 }).subscribe(seen);
  const waitFor = (predicate: (e: ServeEvent) => boolean) => firstValueFrom(seen.pipe(filter(predicate)));
  return { waitFor, stop: () => subscription.unsubscribe() };
}

test('--ledger finds the ledger in an output folder, and says what is missing otherwise', async () => {
  const dir = await tempDir();
  await assert.rejects(locateLedger(join(dir, 'nope')), /--ledger .*nope: not found/);
  await assert.rejects(locateLedger(dir), /no \.unetflow-ledger\.jsonl in this folder \(only watch runs keep a ledger/);
  await writeFile(join(dir, '.unetflow-ledger.jsonl'), '');
  assert.deepEqual(await locateLedger(dir), { ledger: join(dir, '.unetflow-ledger.jsonl'), folder: dir });
});

test('the ledger is read, then followed as lines are appended; a torn line waits for its end; failures point at their report', async () => {
  const dir = await tempDir();
  const ledger = join(dir, '.unetflow-ledger.jsonl');
  // Half a line at the end, as a run writing it would leave it: it waits for its end.
  const b = line({ path: 'day1/b.png', status: 'failed', error: 'day1/b.png: not a readable image', stem: 'day1/b' });
  await writeFile(ledger, line({ path: 'a.png', status: 'done', outputs: { mask: join(dir, 'a.mask.png') }, seconds: 0.25, objects: 7 }) + 'not json\n' + b.slice(0, 20));
  await writeFile(`${ledger}.lock`, '{}');
  const f = follow(ledger);
  try {
    const a = await f.waitFor((e) => e.type === 'ledger-entry' && e.file === 'a.png');
    assert.deepEqual(a, { type: 'ledger-entry', file: 'a.png', status: 'done', outputs: { mask: join(dir, 'a.mask.png') }, time: '2026-11-30T10:00:00.000Z', seconds: 0.25, objects: 7 });
    // The run's state is told after each read of the ledger: the half line has been read by now.
    assert.deepEqual(await f.waitFor((e) => e.type === 'source'), { type: 'source', state: 'running', message: 'a run holds .unetflow-ledger.jsonl: following it' });
    await appendFile(ledger, b.slice(20));
    const failed = await f.waitFor((e) => e.type === 'ledger-entry' && e.file === 'day1/b.png');
    assert.deepEqual(failed, {
      type: 'ledger-entry',
      file: 'day1/b.png',
      status: 'failed',
      outputs: {},
      time: '2026-11-30T10:00:00.000Z',
      error: 'day1/b.png: not a readable image',
      report: join(dir, 'day1', 'b.error.json'),
    });
    await rm(`${ledger}.lock`);
    assert.equal((await f.waitFor((e) => e.type === 'source' && e.state === 'finished')).type, 'source');
  } finally {
    f.stop();
  }
});

test('a ledger rewritten in place (compacted when a run starts) is read again from the start', async () => {
  const dir = await tempDir();
  const ledger = join(dir, '.unetflow-ledger.jsonl');
  await writeFile(ledger, line({ path: 'a.png', status: 'done' }) + line({ path: 'a.png', status: 'done', seconds: 1 }));
  const f = follow(ledger);
  try {
    await f.waitFor((e) => e.type === 'ledger-entry' && e.seconds === 1);
    await writeFile(join(dir, 'tmp'), line({ path: 'a.png', status: 'done', seconds: 2 }));
    await rename(join(dir, 'tmp'), ledger);
    assert.equal(((await f.waitFor((e) => e.type === 'ledger-entry' && e.seconds === 2)) as { file: string }).file, 'a.png');
  } finally {
    f.stop();
  }
});

test('a line that is JSON but not an entry is left out with a warning naming the ledger\'s file and line; the lines after it are shown', { timeout: 20_000 }, async () => {
  const dir = await tempDir();
  const ledger = join(dir, '.unetflow-ledger.jsonl');
  await writeFile(ledger, line({ path: 'a.png', status: 'done' }) + line({ path: 'b.png', status: 'dnoe' }) + line({ path: 'c.png', status: 'done' }));
  const f = follow(ledger);
  try {
    assert.deepEqual(await f.waitFor((e) => e.type === 'log'), {
      type: 'log',
      level: 'warn',
      message: `${ledger}:2: not a ledger entry: status: expected 'done' | 'failed', got "dnoe"; the page leaves it out`,
    });
    assert.equal(((await f.waitFor((e) => e.type === 'ledger-entry' && e.file === 'c.png')) as { status: string }).status, 'done');
  } finally {
    f.stop();
  }
});
