/**
 * The queue through the real binary: real redis-server, real worker processes, one
 * producer (`unetflow run` on a pipeline with a queue: section).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { needsRedis, redisForFile } from '../helpers/redis.js';
import { events, queueProject, startCli, type Cli } from '../helpers/queue-project.js';
import { writePng } from '../helpers/files.js';

const skip = needsRedis();
const db = redisForFile({ skip: skip.skip, appendOnly: true });

const cli = (args: string[]) => {
  const c = startCli(args);
  db.running.push(c);
  return c;
};
const worker = (pipeline: string, ...more: string[]) => cli(['worker', pipeline, '--json', ...more]);
const ready = (w: Cli) => w.waitFor(/taking jobs of/);
const stats = (c: Cli) => events(c).find((e) => e.type === 'stats') as Record<string, number> | undefined;
const ledger = async (name: string) => Object.values(await db.redis.hgetall(`unetflow:${name}:ledger`)).map((t) => JSON.parse(t) as { path: string; status: string });
const files = (dir: string) => readdir(dir).catch(() => [] as string[]);
async function stopAll(workers: Cli[]): Promise<(number | null)[]> {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
  return Promise.all(workers.map((w) => w.exit));
}

test('3 workers, 60 files, one worker killed with -9 mid-job: every file has one set of outputs, the ledger 60 entries, no temporary file remains', skip, async () => {
  const p = await queueProject({ name: 'kill', url: db.server.url, files: 60, slowMs: 100 });
  const workers = [worker(p.pipeline), worker(p.pipeline), worker(p.pipeline)];
  await Promise.all(workers.map(ready));
  const producer = cli(['run', p.pipeline, '--json']);
  // The victim is mid-job, and mid-write, when it holds a temporary file in out/.
  const victim = workers[0];
  let held: string | undefined;
  while (!held) {
    held = (await files(join(p.dir, 'out'))).find((n) => n.endsWith('.tmp') && n.includes(`.${victim.child.pid}.`));
    if (!held) await new Promise((r) => setTimeout(r, 10));
  }
  victim.child.kill('SIGKILL');
  const stem = held.slice(1).split('.')[0];

  assert.equal(await producer.exit, 0, producer.stderr);
  assert.deepEqual({ ...stats(producer), seconds: 0 }, { type: 'stats', done: 60, failed: 0, skipped: 0, unchangedFailed: 0, seconds: 0 });
  const done = events(producer).filter((e) => e.type === 'file-done');
  assert.equal(new Set(done.map((e) => e.file)).size, 60, 'every file reported once');
  assert.equal(done.length, 60);
  const survivors = new Set(workers.slice(1).map((w) => `:${w.child.pid}`));
  const redone = done.find((e) => e.id === stem)!;
  assert.ok([...survivors].some((s) => String(redone.worker).endsWith(s)), `${stem} was finished by a surviving worker, not ${redone.worker}`);
  assert.ok((await p.markers()).filter((m) => m.startsWith(`${stem}.`)).length >= 2, `${stem} was taken twice`);

  const out = await files(join(p.dir, 'out'));
  assert.deepEqual(out.sort(), Array.from({ length: 60 }, (_, i) => `f${String(i).padStart(3, '0')}.image.png`), 'one output per file and nothing else: no temporary file, no report');
  const entries = await ledger('kill');
  assert.equal(entries.length, 60);
  assert.ok(entries.every((e) => e.status === 'done'));
  assert.deepEqual(await stopAll(workers.slice(1)), [0, 0], 'SIGTERM: the survivors exit 0');
});

test('Redis restarted (append-only file on) mid-run: nothing is lost', skip, async () => {
  const p = await queueProject({ name: 'restart', url: db.server.url, files: 24, slowMs: 100 });
  const workers = [worker(p.pipeline), worker(p.pipeline)];
  await Promise.all(workers.map(ready));
  const producer = cli(['run', p.pipeline, '--json']);
  await producer.waitFor(/("type":"file-done"[\s\S]*){6}/);
  await db.server.restart();
  assert.equal(await producer.exit, 0, producer.stderr);
  assert.equal(stats(producer)?.done, 24);
  assert.equal(new Set(events(producer).filter((e) => e.type === 'file-done').map((e) => e.file)).size, 24);
  assert.equal((await files(join(p.dir, 'out'))).length, 24, 'one output per file');
  assert.equal((await ledger('restart')).length, 24);
  assert.deepEqual(await stopAll(workers), [0, 0]);
});

test('a poison file fails once, with its report, and is not retried, now or by the next run; a transient I/O error is retried with backoff', skip, async () => {
  const p = await queueProject({ name: 'poison', url: db.server.url, files: 3, bad: true, flaky: 'f001', queue: { attempts: 3 } });
  const w = worker(p.pipeline);
  const producer = cli(['run', p.pipeline, '--json']);
  assert.equal(await producer.exit, 1, producer.stderr);
  assert.deepEqual({ ...stats(producer), seconds: 0 }, { type: 'stats', done: 3, failed: 1, skipped: 0, unchangedFailed: 0, seconds: 0 });
  const [failed, ...more] = events(producer).filter((e) => e.type === 'file-failed');
  assert.equal(more.length, 0);
  assert.equal(failed.file, join(p.dir, 'in', 'bad.png'));
  assert.match(String(failed.message), /bad\.png: not a readable image/);
  assert.equal(failed.report, join(p.dir, 'out', 'bad.error.json'));
  assert.ok((await files(join(p.dir, 'out'))).includes('bad.error.json'));
  assert.equal(events(w).filter((e) => e.type === 'file-failed').length, 1, 'the worker tried it once');
  // f001's first try met an EIO: retried after the backoff, then done.
  assert.match(w.stderr, /f001\.png: .*read error on the share \(transient: attempt 1 of 3, retried\)/);
  assert.equal((await p.markers()).filter((m) => m.startsWith('f001.')).length, 2);
  assert.ok((await files(join(p.dir, 'out'))).includes('f001.image.png'));

  const again = cli(['run', p.pipeline, '--json']);
  assert.equal(await again.exit, 0, again.stderr);
  assert.deepEqual({ ...stats(again), seconds: 0 }, { type: 'stats', done: 0, failed: 0, skipped: 3, unchangedFailed: 1, seconds: 0 });
  assert.equal(events(w).filter((e) => e.type === 'file-failed').length, 1, 'not retried by the next run');
  assert.deepEqual(await stopAll([w]), [0]);
});

test('two producers on one folder do no double work, even while the file is in flight and a worker is free', skip, async () => {
  // One file that takes 3 s, two idle workers, two producers started together: both enqueue while
  // the file is in flight, and a second copy of the job would go to the free worker at once.
  const p = await queueProject({ name: 'twice', url: db.server.url, files: 1, slowMs: 3000 });
  const workers = [worker(p.pipeline, '--concurrency', '1'), worker(p.pipeline, '--concurrency', '1')];
  await Promise.all(workers.map(ready));
  const [first, second] = [cli(['run', p.pipeline, '--json']), cli(['run', p.pipeline, '--json'])];
  assert.deepEqual(await Promise.all([first.exit, second.exit]), [0, 0], first.stderr + second.stderr);
  for (const c of [first, second]) assert.equal(stats(c)?.done, 1, 'each producer enqueued the file and saw it done');
  assert.equal((await p.markers()).length, 1, `processed once: ${(await p.markers()).join(' ')}`);
  assert.deepEqual(await stopAll(workers), [0, 0]);
});

test('a worker started before the producer waits for its jobs; SIGTERM lets it finish the job in flight and exit 0', skip, async () => {
  const p = await queueProject({ name: 'early', url: db.server.url, files: 2, slowMs: 800 });
  const w = worker(p.pipeline, '--concurrency', '1');
  await ready(w);
  await new Promise((r) => setTimeout(r, 500)); // idle, waiting on the empty queue
  const producer = cli(['run', p.pipeline, '--json']);
  while ((await p.markers()).length === 0) await new Promise((r) => setTimeout(r, 20));
  w.child.kill('SIGTERM');
  assert.equal(await w.exit, 0, w.stderr);
  const first = (await p.markers())[0].split('.')[0];
  assert.ok((await files(join(p.dir, 'out'))).includes(`${first}.image.png`), 'the job in flight was finished');
  assert.equal((await ledger('early')).length, 1, 'and recorded; the other job waits');
  const next = worker(p.pipeline);
  assert.equal(await producer.exit, 0, producer.stderr);
  assert.equal(stats(producer)?.done, 2);
  assert.deepEqual(await stopAll([next]), [0]);
});

test('a worker whose pipeline differs from the producer\'s fails the job, saying so, and records nothing', skip, async () => {
  const p = await queueProject({ name: 'differs', url: db.server.url, files: 1 });
  const w = worker(p.pipeline, '--set', 'seed=7');
  const producer = cli(['run', p.pipeline, '--json']);
  assert.equal(await producer.exit, 1, producer.stderr);
  const [failed] = events(producer).filter((e) => e.type === 'file-failed');
  assert.match(String(failed.message), /f000\.png: not processed: the job was made by a pipeline whose steps differ from this worker's .*pipeline\.yaml \(pipeline hash [0-9a-f]{12}, this worker's [0-9a-f]{12}\)/);
  assert.deepEqual(await ledger('differs'), []);
  assert.deepEqual(await files(join(p.dir, 'out')), []);
  assert.deepEqual(await stopAll([w]), [0]);
});

test("the pipeline's own fault on one machine gives the job back and stops that worker (exit 2); another worker does it", skip, async () => {
  const p = await queueProject({ name: 'fault', url: db.server.url, files: 1 });
  const broken = startCli(['worker', p.pipeline], { UNETFLOW_TEST_BROKEN: '1' });
  db.running.push(broken);
  const producer = cli(['run', p.pipeline, '--json']);
  assert.equal(await broken.exit, 2, broken.stderr);
  assert.match(broken.stderr, /the model will not load on this machine/);
  assert.equal(await db.redis.hlen('unetflow:fault:ledger'), 0, 'the file is not blamed');
  const good = worker(p.pipeline);
  assert.equal(await producer.exit, 0, producer.stderr);
  assert.equal(events(producer).find((e) => e.type === 'file-done')?.worker, `${/worker (\S+):\d+/.exec(good.stderr)?.[1]}:${good.child.pid}`);
  assert.deepEqual(await stopAll([good]), [0]);
});

test("the producer's live page (run --queue --serve) lists every worker's files, each with the worker that did it and links that serve its outputs", skip, async () => {
  const p = await queueProject({ name: 'page', url: db.server.url, files: 6, slowMs: 50 });
  const workers = [worker(p.pipeline), worker(p.pipeline)];
  await Promise.all(workers.map(ready));
  const producer = cli(['run', p.pipeline, '--json', '--serve', '0', '--keep-serving']);
  await producer.waitFor(/the live page stays at/);
  const url = /live page: (http:\/\/\S+)/.exec(producer.stderr)![1];
  const page = (await (await fetch(new URL('/api/files?limit=50', url))).json()) as { total: number; rows: { file: string; status: string; worker?: string; links: Record<string, string> }[] };
  const byWorker = new Map(events(producer).filter((e) => e.type === 'file-done').map((e) => [e.file as string, e.worker as string]));
  assert.equal(page.total, 6);
  for (const row of page.rows) {
    assert.equal(row.status, 'done');
    assert.equal(row.worker, byWorker.get(row.file), row.file);
    assert.match(row.worker ?? '', /:\d+$/);
    const output = await fetch(new URL(`/files/${row.links.image}`, url));
    assert.equal(output.status, 200, `${row.file}: ${row.links.image}`);
  }
  producer.child.kill('SIGTERM');
  assert.equal(await producer.exit, 0);
  assert.deepEqual(await stopAll(workers), [0, 0]);
});

test('a producer on a watch source enqueues the files there and those that arrive, until SIGTERM (exit 0); a restarted one enqueues nothing done', skip, async () => {
  const p = await queueProject({ name: 'watching', url: db.server.url, files: 2 });
  const w = worker(p.pipeline);
  const watch = ['--set', 'source={ watch: { dir: in, stableMs: 200 } }'];
  const producer = cli(['run', p.pipeline, '--json', ...watch]);
  await producer.waitFor(/"type":"file-done"[^\n]*f000\.png/);
  await producer.waitFor(/"type":"file-done"[^\n]*f001\.png/);
  await writePng(join(p.dir, 'in', 'late.png'), 99, 16);
  await producer.waitFor(/"type":"file-done"[^\n]*late\.png/);
  producer.child.kill('SIGTERM');
  assert.equal(await producer.exit, 0, producer.stderr);
  assert.deepEqual({ ...stats(producer), seconds: 0 }, { type: 'stats', done: 3, failed: 0, skipped: 0, unchangedFailed: 0, seconds: 0 });
  const again = cli(['run', p.pipeline, '--json', ...watch]);
  await again.waitFor(/"type":"started"/);
  await new Promise((r) => setTimeout(r, 1000));
  again.child.kill('SIGTERM');
  assert.equal(await again.exit, 0, again.stderr);
  assert.equal(stats(again)?.skipped, 3, 'the three files are in the ledger');
  assert.equal((await p.markers()).length, 3, `each processed once: ${(await p.markers()).join(' ')}`);
  assert.deepEqual(await stopAll([w]), [0]);
});

test('a job whose workers die more often than maxStalled allows is reported failed by the producer, not recorded, and taken again by the next run', skip, async () => {
  const p = await queueProject({ name: 'stalled', url: db.server.url, files: 1, slowMs: 4000, queue: { maxStalled: 1 } });
  const workers = [worker(p.pipeline, '--concurrency', '1'), worker(p.pipeline, '--concurrency', '1'), worker(p.pipeline, '--concurrency', '1')];
  await Promise.all(workers.map(ready));
  const producer = cli(['run', p.pipeline, '--json']);
  // Kill whichever worker holds the job, twice: the second recovery is one more than maxStalled allows.
  for (let kills = 1; kills <= 2; kills++) {
    let holder: Cli | undefined;
    while (!holder) {
      const pids = (await p.markers()).map((m) => Number(m.split('.')[1]));
      holder = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null && pids.includes(w.child.pid!));
      if (!holder) await new Promise((r) => setTimeout(r, 20));
    }
    holder.child.kill('SIGKILL');
    await holder.exit;
  }
  assert.equal(await producer.exit, 1, producer.stderr);
  const [failed] = events(producer).filter((e) => e.type === 'file-failed');
  assert.match(String(failed.message), /f000\.png: its job left the queue without a result \(its workers stopped more than maxStalled times/);
  assert.equal(stats(producer)?.failed, 1);
  assert.deepEqual(await ledger('stalled'), [], 'not recorded: the file is not at fault');
  assert.equal((await p.markers()).length, 2, 'taken twice, by the two workers that died');
  const survivor = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  assert.equal(survivor.length, 1);
  const again = cli(['run', p.pipeline, '--json']);
  assert.equal(await again.exit, 0, again.stderr);
  assert.equal(stats(again)?.done, 1, 'the next run takes it again, and the surviving worker does it');
  assert.deepEqual(await stopAll(survivor), [0]);
});
