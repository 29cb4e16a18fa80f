/**
 * The lock file: refusal while its holder lives, recovery once it is gone, and never on
 * the strength of a PID alone. Holders are real processes: this one, a child killed
 * with -9, a `sleep` standing in for a process that reused a PID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { acquireLock, LockHeldError, type LockOptions, type LockOwner } from '../../src/io/lock.js';
import { tempDir } from '../helpers/files.js';
import { sleep } from '../helpers/wait.js';

const options: LockOptions = { guards: 'the output folder /x', because: 'they would clash', otherwise: 'use another folder' };

/** Field 22 of /proc/<pid>/stat, read here independently of the code under test. */
function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

async function writeOwner(file: string, owner: Partial<LockOwner>, ageMs = 0) {
  const defaults = { host: hostname(), since: '2026-01-01T00:00:00.000Z', bootId: bootId(), pidNamespace: await readlink('/proc/self/ns/pid') };
  await writeFile(file, JSON.stringify({ ...defaults, ...owner }) + '\n');
  const t = new Date(Date.now() - ageMs);
  await utimes(file, t, t);
}

function spawnSleep(): ChildProcess {
  return spawn('sleep', ['60'], { stdio: 'ignore' });
}

test('a held lock refuses a second holder, naming the file, pid, host and time; released, it can be taken again', async () => {
  const dir = await tempDir();
  const file = join(dir, '.unetflow.lock');
  const first = await acquireLock(file, options);
  const content = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(content.pid, process.pid);
  assert.equal(content.host, hostname());
  assert.equal(content.processStart, startTime(process.pid));
  const error = await acquireLock(file, options).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof LockHeldError);
  assert.equal(
    error.message,
    `the output folder /x is in use by another unetflow run (pid ${process.pid} on host ${hostname()}, since ${content.since}, last heartbeat 0 s ago; lock file ${file}): they would clash. Stop that run first (kill ${process.pid} asks it to finish its files and exit), or use another folder.`,
  );
  first.release();
  assert.deepEqual(await readdir(dir), []);
  const second = await acquireLock(file, options);
  assert.equal(second.recovered, undefined);
  second.release();
});

test('a lock left by a process killed with -9 is taken over at the next start', { timeout: 30000 }, async () => {
  const dir = await tempDir();
  const file = join(dir, '.unetflow.lock');
  const child = spawn(process.execPath, ['--import', 'tsx', resolve('test/helpers/hold-lock.ts'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (!out.includes('held')) await sleep(20);
  await assert.rejects(acquireLock(file, options), LockHeldError);
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const lock = await acquireLock(file, options);
  assert.equal(lock.recovered?.reason, `process ${child.pid} is gone`);
  assert.match(lock.recovered!.message, new RegExp(`^took over the stale lock ${file}, left by pid ${child.pid} on host ${hostname()} since .*: process ${child.pid} is gone$`));
  assert.equal(JSON.parse(await readFile(file, 'utf8')).pid, process.pid);
  lock.release();
});

test('a lock naming a live pid is taken over when that pid belongs to a process started at another time (PID reuse)', async () => {
  const dir = await tempDir();
  const file = join(dir, '.unetflow.lock');
  const other = spawnSleep();
  try {
    await new Promise((r) => other.on('spawn', r));
    const pid = other.pid!;
    // The same pid with its real start time is a live holder...
    await writeOwner(file, { pid, processStart: startTime(pid) });
    await assert.rejects(acquireLock(file, options), /in use by another unetflow run \(pid \d+ on host/);
    // ...and with another start time, a process that died and whose pid was given to `sleep`.
    await writeOwner(file, { pid, processStart: String(Number(startTime(pid)) - 1000) });
    const lock = await acquireLock(file, options);
    assert.equal(lock.recovered?.reason, `pid ${pid} now belongs to another process (started at another time)`);
    lock.release();
  } finally {
    other.kill();
  }
});

test('a lock from another machine is refused while its heartbeat is fresh and taken over once it is older than staleMs', async () => {
  const dir = await tempDir();
  const file = join(dir, '.unetflow.lock');
  await writeOwner(file, { pid: 1, host: 'acquisition-pc' }, 1000);
  await assert.rejects(
    acquireLock(file, { ...options, staleMs: 5000 }),
    /pid 1 on host acquisition-pc \(another machine\), since 2026-01-01T00:00:00.000Z, last heartbeat 1 s ago; .* Stop that run first, or use another folder\. If it has died, the lock is taken over 5 s after its last heartbeat\.$/,
  );
  await writeOwner(file, { pid: 1, host: 'acquisition-pc' }, 7000);
  const lock = await acquireLock(file, { ...options, staleMs: 5000 });
  assert.equal(lock.recovered?.reason, 'no heartbeat for 7 s');
  lock.release();
});

test('a lock taken before this machine restarted is stale', async () => {
  const dir = await tempDir();
  const file = join(dir, '.unetflow.lock');
  await writeOwner(file, { pid: process.pid, processStart: startTime(process.pid), bootId: '00000000-0000-0000-0000-000000000000' });
  const lock = await acquireLock(file, options);
  assert.equal(lock.recovered?.reason, 'this machine has restarted since');
  lock.release();
});

test("the heartbeat refreshes the lock's mtime, puts back a deleted lock, and reports one taken over", { timeout: 20000 }, async () => {
  const dir = await tempDir();
  const file = join(dir, '.unetflow.lock');
  const lost: string[] = [];
  const lock = await acquireLock(file, { ...options, heartbeatMs: 50, onLost: (m) => lost.push(m) });
  const old = new Date(Date.now() - 3_600_000);
  await utimes(file, old, old);
  while ((await stat(file)).mtimeMs < Date.now() - 60_000) await sleep(20);

  const content = await readFile(file, 'utf8');
  await rm(file);
  while ((await readFile(file, 'utf8').catch(() => '')) !== content) await sleep(20);
  assert.deepEqual(lost, []);

  await writeOwner(file, { pid: 4242, host: 'other-pc', since: '2026-02-02T00:00:00.000Z' });
  while (lost.length === 0) await sleep(20);
  assert.deepEqual(lost, [
    `lost the lock ${file} on the output folder /x: pid 4242 on host other-pc took it over at 2026-02-02T00:00:00.000Z (was this process suspended for longer than the heartbeat allows?); stopping: no new files are taken`,
  ]);
  lock.release();
  assert.equal(JSON.parse(await readFile(file, 'utf8')).pid, 4242, 'release leaves a lock that is not ours');
});

test('of two processes taking over one stale lock at once, exactly one gets it', async () => {
  const dir = await tempDir();
  const file = join(dir, '.unetflow.lock');
  for (let round = 0; round < 10; round++) {
    await writeOwner(file, { pid: 1, host: 'gone-pc' }, 3_600_000);
    const results = await Promise.allSettled([acquireLock(file, options), acquireLock(file, options)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, `round ${round}: ${results.map((r) => r.status).join(', ')}`);
    (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
  }
});
