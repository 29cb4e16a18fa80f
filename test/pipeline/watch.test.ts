/**
 * Watch mode end to end, with an identity "network" (mirror -> tile -> stitch): files
 * written slowly in chunks, a corrupt file, a stop in the middle of a burst and a
 * restart, files added while stopped, a changed file. Exact counts throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, open, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Subject, lastValueFrom, toArray, tap } from 'rxjs';
import { runPipeline } from '../../src/pipeline/run.js';
import type { RunEvent } from '../../src/events.js';
import { ofType, pngBytes, tempDir } from '../helpers/files.js';
import { sleep } from '../helpers/wait.js';

function definition() {
  return {
    version: 1,
    name: 'watch-test',
    source: { watch: { dir: 'in', stableMs: 250 } },
    concurrency: 2,
    steps: [
      { load: {} },
      { mirror: { input: 20, output: 12 } },
      { tile: { input: 20, output: 12 } },
      { stitch: {} },
      { save: { dir: 'out', outputs: ['image'] } },
    ],
  };
}

/** Starts a run; resolves helpers to wait for events and to stop it. */
function start(dir: string) {
  const stop = new AbortController();
  const events: RunEvent[] = [];
  const seen = new Subject<RunEvent>();
  const finished = lastValueFrom(runPipeline(definition(), { baseDir: dir, signal: stop.signal }).pipe(tap((e) => (events.push(e), seen.next(e))), toArray()));
  const until = (predicate: () => boolean, what: string, ms = 15000) =>
    Promise.race([
      (async () => {
        while (!predicate()) await sleep(20);
      })(),
      sleep(ms).then(() => {
        throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => e.type + ':' + ('file' in e ? e.file : '')))}`);
      }),
    ]);
  const count = (type: RunEvent['type']) => events.filter((e) => e.type === type).length;
  return {
    events,
    count,
    ready: until(() => events.some((e) => e.type === 'log' && e.message.startsWith('watching')), 'the watcher'),
    until,
    async stop() {
      stop.abort();
      return finished;
    },
  };
}

async function writeSlowly(path: string, bytes: Buffer, chunks: number, gapMs: number) {
  const handle = await open(path, 'w');
  const size = Math.ceil(bytes.length / chunks);
  for (let i = 0; i < bytes.length; i += size) {
    await handle.write(bytes.subarray(i, i + size));
    await handle.sync();
    await sleep(gapMs);
  }
  await handle.close();
}

const doneFiles = (events: RunEvent[]) => events.filter((e) => e.type === 'file-done').map((e) => (e as { id: string }).id);

test('watch mode processes every good file exactly once across restarts, and reports the bad one', { timeout: 60000 }, async () => {
  const dir = await tempDir('unetflow-watch-');
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'before.png'), await pngBytes(100)); // already there at start

  // Run 1: a file written slowly in chunks, a corrupt file, a temporary name renamed into place.
  const run1 = start(dir);
  await run1.ready;
  await writeSlowly(join(dir, 'in', 'slow.png'), await pngBytes(1, 64), 6, 80);
  await writeFile(join(dir, 'in', 'corrupt.png'), (await pngBytes(2)).subarray(0, 30));
  await writeFile(join(dir, 'in', 'copy.png.part'), await pngBytes(3));
  await rename(join(dir, 'in', 'copy.png.part'), join(dir, 'in', 'copy.png'));
  await run1.until(() => run1.count('file-done') === 3 && run1.count('file-failed') === 1, '3 done and 1 failed');

  // A burst, stopped in the middle.
  const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => pngBytes(1000 + i)));
  await Promise.all(burst.map((b, i) => writeFile(join(dir, 'in', `burst-${String(i).padStart(2, '0')}.png`), b)));
  await run1.until(() => run1.count('file-done') >= 8, 'part of the burst');
  const events1 = await run1.stop();
  const done1 = doneFiles(events1);
  assert.ok(done1.length < 43, `the stop came before the burst was finished (${done1.length} done)`);
  assert.deepEqual(events1.filter((e) => e.type === 'file-failed').map((e) => (e as { file: string }).file), [join(dir, 'in', 'corrupt.png')]);

  // While stopped: one new file arrives and one processed file changes.
  await writeFile(join(dir, 'in', 'while-stopped.png'), await pngBytes(200));
  await writeFile(join(dir, 'in', 'before.png'), await pngBytes(101));

  // Run 2: the rest of the burst, the new file and the changed one — nothing else.
  const run2 = start(dir);
  await run2.ready;
  const expected2 = 43 - done1.length + 1 + 1; // burst remainder + while-stopped + changed before.png
  await run2.until(() => run2.count('file-done') === expected2, `${expected2} done in run 2`);
  await sleep(600); // time for any wrong extra processing to show up
  const events2 = await run2.stop();
  const done2 = doneFiles(events2);
  assert.equal(done2.length, expected2);
  assert.equal(events2.filter((e) => e.type === 'file-failed').length, 0, 'the unchanged corrupt file is not retried');
  const stats2 = ofType(events2, 'stats')[0];
  assert.deepEqual([stats2.unchangedFailed, stats2.skipped], [1, done1.length - 1], 'the corrupt file is counted as failed before, not as done');

  // Exactly once: every good file done once over both runs, except before.png, changed in between.
  const all = [...done1, ...done2].sort();
  const names = ['before', 'before', 'copy', 'slow', 'while-stopped', ...burst.map((_, i) => `burst-${String(i).padStart(2, '0')}`)].sort();
  assert.deepEqual(all, names);

  const outputs = (await readdir(join(dir, 'out'))).filter((f) => !f.startsWith('.')).sort();
  assert.equal(outputs.filter((f) => f.endsWith('.image.png')).length, 44);
  assert.ok(outputs.includes('corrupt.error.json'));
  assert.ok(!outputs.some((f) => f.endsWith('.tmp')), 'no temporary file left behind');
  const ledger = (await readFile(join(dir, 'out', '.unetflow-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  const latest = new Map(ledger.map((e) => [e.path, e.status]));
  assert.equal(latest.size, 45);
  assert.equal(latest.get('corrupt.png'), 'failed');
});

test('a recursive watch keeps the subfolders of its inputs in the outputs and the ledger', { timeout: 30000 }, async () => {
  const dir = await tempDir('unetflow-watch-');
  await mkdir(join(dir, 'in', 'day1', 'plate2'), { recursive: true });
  const stop = new AbortController();
  const events: RunEvent[] = [];
  const finished = lastValueFrom(
    runPipeline(
      { version: 1, name: 'rec', source: { watch: { dir: 'in', recursive: true, stableMs: 150 } }, steps: [{ load: {} }, { save: { dir: 'out', outputs: ['image'] } }] },
      { baseDir: dir, signal: stop.signal },
    ).pipe(tap((e) => events.push(e)), toArray()),
  );
  while (!events.some((e) => e.type === 'log' && e.message.startsWith('watching'))) await sleep(20);
  await writeFile(join(dir, 'in', 'top.png'), await pngBytes(1));
  await writeFile(join(dir, 'in', 'day1', 'plate2', 'a.png'), await pngBytes(2));
  while (events.filter((e) => e.type === 'file-done').length < 2) await sleep(20);
  stop.abort();
  await finished;
  assert.ok((await readdir(join(dir, 'out', 'day1', 'plate2'))).includes('a.image.png'));
  assert.ok((await readdir(join(dir, 'out'))).includes('top.image.png'));
  const ledger = (await readFile(join(dir, 'out', '.unetflow-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).path).sort();
  assert.deepEqual(ledger, ['day1/plate2/a.png', 'top.png']);
});

const logs = (events: RunEvent[], level: 'info' | 'warn') => events.filter((e) => e.type === 'log' && e.level === level).map((e) => (e as { message: string }).message);

test('a watch folder missing at start, or removed and created again, is waited for and picked up; a stop while waiting is prompt', { timeout: 60000 }, async () => {
  const dir = await tempDir('unetflow-watch-');
  const folder = join(dir, 'in');
  const run = start(dir);
  await run.until(() => logs(run.events, 'warn').includes(`watch folder ${folder} does not exist: waiting for it to appear`), 'the warning about the missing folder');

  await mkdir(folder);
  const a = await pngBytes(1);
  await writeFile(join(folder, 'a.png'), a);
  await run.until(() => doneFiles(run.events).includes('a'), 'a.png, once the folder appeared');

  // Removed, then created again with the same a.png (a new mtime) and a new file.
  await rm(folder, { recursive: true });
  await run.until(() => logs(run.events, 'warn').includes(`watch folder ${folder} was removed: waiting for it to appear again`), 'the warning about the removal');
  await mkdir(folder);
  await writeFile(join(folder, 'a.png'), a);
  await writeFile(join(folder, 'b.png'), await pngBytes(2));
  await run.until(() => doneFiles(run.events).includes('b'), 'b.png in the new folder');

  // Removed and created again at once: ext4 gives the new folder the old one's inode number.
  await rm(folder, { recursive: true });
  await mkdir(folder);
  await writeFile(join(folder, 'c.png'), await pngBytes(3));
  await run.until(() => doneFiles(run.events).includes('c'), 'c.png in the folder created again at once');
  await sleep(600); // time for a wrong redo of a.png to show up
  assert.deepEqual(doneFiles(run.events).sort(), ['a', 'b', 'c'], 'a.png, unchanged, is not redone');

  // A stop while waiting for the folder ends the run.
  await rm(folder, { recursive: true });
  await run.until(() => logs(run.events, 'warn').filter((m) => m.endsWith('waiting for it to appear again')).length === 2, 'the second removal');
  const finished = await Promise.race([run.stop(), sleep(5000).then(() => undefined)]);
  assert.ok(finished, 'the run completed within 5 s of the stop');
  assert.equal(finished.at(-1)?.type, 'stats');
});

test('a file renamed or copied in the watched folder is recognised by its content, recorded under its new name and not processed again', { timeout: 60000 }, async () => {
  const dir = await tempDir('unetflow-watch-');
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'a.png'), await pngBytes(7));
  const run1 = start(dir);
  await run1.ready;
  await run1.until(() => doneFiles(run1.events).includes('a'), 'a.png');
  await rename(join(dir, 'in', 'a.png'), join(dir, 'in', 'renamed.png'));
  await copyFile(join(dir, 'in', 'renamed.png'), join(dir, 'in', 'copy.png'));
  await run1.until(() => logs(run1.events, 'info').filter((m) => m.includes('same content as')).length === 2, 'two files recognised');
  await sleep(600);
  const events1 = await run1.stop();
  assert.deepEqual(doneFiles(events1), ['a']);
  for (const name of ['renamed', 'copy']) {
    assert.ok(
      logs(events1, 'info').includes(`${join(dir, 'in', `${name}.png`)}: same content as ${join(dir, 'in', 'a.png')}, which is done: not processed again; recorded in the ledger with its outputs`),
      name,
    );
  }
  assert.equal(ofType(events1, 'stats')[0].skipped, 2);
  const ledger = (await readFile(join(dir, 'out', '.unetflow-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  const byPath = new Map(ledger.map((e) => [e.path, e]));
  for (const name of ['renamed.png', 'copy.png']) {
    assert.equal(byPath.get(name).status, 'done');
    assert.equal(byPath.get(name).sameAs, 'a.png');
    assert.deepEqual(byPath.get(name).outputs, { image: join(dir, 'out', 'a.image.png') });
  }
  assert.deepEqual((await readdir(join(dir, 'out'))).filter((f) => !f.startsWith('.')), ['a.image.png']);

  // After a restart both are simply done.
  const run2 = start(dir);
  await run2.ready;
  await sleep(600);
  const events2 = await run2.stop();
  assert.deepEqual(doneFiles(events2), []);
  assert.equal(ofType(events2, 'stats')[0].skipped, 2);
});
