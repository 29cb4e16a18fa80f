/**
 * The run takes a lock on its output folder (every run with a save step) and, in watch
 * mode, on its ledger: a second run is refused, a stale lock is taken over, and the
 * temporaries a dead writer left are removed whatever their pid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { runPipeline } from '../../src/pipeline/run.js';
import type { RunEvent } from '../../src/events.js';
import { collect, ofType, tempDir, writePng } from '../helpers/files.js';
import { sleep } from '../helpers/wait.js';

const save = (dir: string) => ({ save: { dir, outputs: ['image'] } });
const batch = (out = 'out') => ({ version: 1, name: 'batch', source: { files: 'in' }, steps: [{ load: {} }, save(out)] });
const watch = (out = 'out', ledger?: string) => ({ version: 1, name: 'watch', source: { watch: { dir: 'in', stableMs: 100, ...(ledger ? { ledger } : {}) } }, steps: [{ load: {} }, save(out)] });

async function project() {
  const dir = await tempDir('unetflow-lock-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'a.png'), 1);
  return dir;
}

test('a second run on the same output folder or the same ledger is refused while the first runs', { timeout: 30000 }, async () => {
  const dir = await project();
  const stop = new AbortController();
  const events: RunEvent[] = [];
  const first = lastValueFrom(runPipeline(watch(), { baseDir: dir, signal: stop.signal }).pipe(tap((e) => events.push(e)), toArray()));
  while (!events.some((e) => e.type === 'file-done')) await sleep(20);
  const out = join(dir, 'out');
  const since = JSON.parse(readFileSync(join(out, '.unetflow.lock'), 'utf8')).since;
  const held = `the output folder ${out} is in use by another unetflow run (pid ${process.pid} on host ${hostname()}, since ${since}, last heartbeat 0 s ago; lock file ${join(out, '.unetflow.lock')}): two runs writing one folder overwrite each other's outputs. Stop that run first (kill ${process.pid} asks it to finish its files and exit), or give this run another save.dir.`;
  const refused: RunEvent[] = [];
  await assert.rejects(collect(runPipeline(watch(), { baseDir: dir }).pipe(tap((e) => refused.push(e)))), { name: 'LockHeldError', message: held });
  assert.deepEqual(refused.at(-1), { type: 'run-failed', message: held, exitCode: 3 });
  assert.ok(!refused.some((e) => e.type === 'started'), 'a refused run does not start');
  await assert.rejects(collect(runPipeline(batch(), { baseDir: dir })), { name: 'LockHeldError', message: held });
  // Another output folder, but the first run's ledger.
  await assert.rejects(
    collect(runPipeline(watch('out2', 'out/.unetflow-ledger.jsonl'), { baseDir: dir })),
    {
      name: 'LockHeldError',
      message: new RegExp(`^the ledger ${join(out, '.unetflow-ledger.jsonl')} is in use by another unetflow run .*: two watch runs on one ledger would each process every file\\. .*, or give this run another ledger \\(or save\\.dir\\)\\.$`),
    },
  );
  stop.abort();
  await first;
  assert.deepEqual((await readdir(out)).sort(), ['.unetflow-ledger.jsonl', 'a.image.png'], 'the locks are released at the end');
  const again = await collect(runPipeline(batch(), { baseDir: dir }));
  assert.equal(ofType(again, 'stats')[0].done, 1);
});

test('a lock left by a dead run whose pid now belongs to another process is taken over', { timeout: 30000 }, async () => {
  const dir = await project();
  await mkdir(join(dir, 'out'));
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    await new Promise((r) => other.on('spawn', r));
    const stat = readFileSync(`/proc/${other.pid}/stat`, 'utf8');
    const startTime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const lock = {
      pid: other.pid, host: hostname(), since: '2026-11-01T08:00:00.000Z', processStart: String(startTime - 500),
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), pidNamespace: await readlink('/proc/self/ns/pid'),
    };
    await writeFile(join(dir, 'out', '.unetflow.lock'), JSON.stringify(lock));
    const events = await collect(runPipeline(batch(), { baseDir: dir }));
    assert.ok(
      ofType(events, 'log').some(
        (e) => e.level === 'info' && e.message === `took over the stale lock ${join(dir, 'out', '.unetflow.lock')}, left by pid ${other.pid} on host ${hostname()} since 2026-11-01T08:00:00.000Z: pid ${other.pid} now belongs to another process (started at another time)`,
      ),
      JSON.stringify(ofType(events, 'log')),
    );
    assert.equal(ofType(events, 'stats')[0].done, 1);
  } finally {
    other.kill();
  }
});

test('temporaries left in the output folder are removed at start whatever their pid, even a live one', async () => {
  const dir = await project();
  await mkdir(join(dir, 'out', 'day1'), { recursive: true });
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    await new Promise((r) => other.on('spawn', r));
    // A crashed writer's pid, since given to a live process, and this process's own pid.
    const left = [join(dir, 'out', `.a.image.png.${other.pid}.1.tmp`), join(dir, 'out', 'day1', `.b.image.png.${process.pid}.7.tmp`)];
    for (const path of left) await writeFile(path, 'half an image');
    const events = await collect(runPipeline(batch(), { baseDir: dir }));
    assert.deepEqual(
      ofType(events, 'log').filter((e) => e.message.startsWith('removed')).map((e) => e.message).sort(),
      left.map((path) => `removed ${path}, left by a writer that stopped mid-write`).sort(),
    );
    assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['a.image.png', 'day1']);
    assert.deepEqual(await readdir(join(dir, 'out', 'day1')), []);
  } finally {
    other.kill();
  }
});
