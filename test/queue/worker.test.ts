/** What a worker does with jobs it must not run: anyone who can write to the queue can write a job. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadPipeline } from '../../src/pipeline/run.js';
import { hashFile } from '../../src/pipeline/ledger.js';
import { jobId as jobIdOf, pipelineHash } from '../../src/queue/job-id.js';
import { RelayReader, type Relayed } from '../../src/queue/relay.js';
import { writePng } from '../helpers/files.js';
import { queueProject, startCli } from '../helpers/queue-project.js';
import { needsRedis, RedisServer } from '../helpers/redis.js';

const skip = needsRedis();
let server: RedisServer;
before(async () => {
  if (!skip.skip) server = await RedisServer.start();
});
after(() => server?.stop());

test('a job naming a path outside the source folder, or not a unetflow job, is refused and reported, and nothing is read or written', skip, async () => {
  const p = await queueProject({ name: 'roots', url: server.url, files: 1 });
  await writePng(join(p.dir, 'secret.png'), 9);
  const worker = startCli(['worker', p.pipeline, '--json']);
  const redis = new Redis(server.url);
  const blocking = redis.duplicate();
  const queue = new Queue('roots', { connection: { host: '127.0.0.1', port: server.port }, prefix: 'unetflow' });
  try {
    const reader = await RelayReader.open(blocking, 'roots');
    await worker.waitFor(/taking jobs of roots/);
    const hash = pipelineHash((await loadPipeline(p.pipeline)).definition);
    const job = { pipeline: hash, hash: 'h', size: 1, mtimeMs: 1, stem: 'secret' };
    await queue.add('file', { ...job, path: '../secret.png' }, { jobId: 'dotdot' });
    await queue.add('file', { ...job, path: join(p.dir, 'secret.png') }, { jobId: 'absolute' });
    await queue.add('file', { please: 'run me' }, { jobId: 'garbage' });
    const reports: Relayed[] = [];
    while (reports.length < 3) reports.push(...(await reader.next(1000)));
    const byJob = Object.fromEntries(reports.map((r) => [r.job, r.event]));
    assert.match(byJob.dotdot.type === 'file-failed' ? byJob.dotdot.message : '', /^"\.\.\/secret\.png": refused, it leads outside the source folder: this worker reads only inside .*\/in$/);
    assert.match(byJob.absolute.type === 'file-failed' ? byJob.absolute.message : '', /refused, not a path relative to the source folder/);
    assert.match(byJob.garbage.type === 'file-failed' ? byJob.garbage.message : '', /^job garbage: not a unetflow job \(please: unknown key 'please'/);
    assert.ok(reports.every((r) => /:\d+$/.test(r.event.worker ?? '')), 'each report names the worker');
    assert.deepEqual(await readdir(join(p.dir, 'out')).catch(() => []), []);
    assert.deepEqual(await p.markers(), [], 'no step ran');
    assert.equal(await redis.hlen('unetflow:roots:ledger'), 0);
    // Refused jobs are failed for good (not retried): none is waiting.
    assert.equal((await queue.getJobCounts('wait', 'delayed', 'active')).wait, 0);
  } finally {
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exit, 0);
    await queue.close();
    redis.disconnect();
    blocking.disconnect();
  }
});

/** A project whose f000.png and f001.png a producer and a worker have done; then x.png (an image) and junk.png (not one) arrive, and jobs are added by hand. */
async function doneProject(name: string) {
  const p = await queueProject({ name, url: server.url, files: 2 });
  const worker = startCli(['worker', p.pipeline, '--json']);
  const producer = startCli(['run', p.pipeline, '--json']);
  assert.equal(await producer.exit, 0, producer.stderr);
  await writePng(join(p.dir, 'in', 'x.png'), 77, 16);
  await writeFile(join(p.dir, 'in', 'junk.png'), 'not an image');
  const redis = new Redis(server.url);
  const blocking = redis.duplicate();
  const queue = new Queue(name, { connection: { host: '127.0.0.1', port: server.port }, prefix: 'unetflow' });
  const reader = await RelayReader.open(blocking, name);
  const pipeline = pipelineHash((await loadPipeline(p.pipeline)).definition);
  /** The job a producer would make for `path` (stem and all), with `change` applied. */
  const job = async (path: string, change: Record<string, unknown> = {}, id?: string) => {
    const file = join(p.dir, 'in', path);
    const s = await stat(file);
    const hash = await hashFile(file);
    const data = { pipeline, path, hash, size: s.size, mtimeMs: s.mtimeMs, stem: path.replace(/\.[^.]+$/, ''), ...change };
    const jobId = id ?? jobIdOf(pipeline, String(data.hash));
    await queue.add('file', data, { jobId });
    return jobId;
  };
  /** The reports of these jobs, by job id. */
  const reports = async (ids: string[]) => {
    const got = new Map<string, Relayed['event']>();
    const end = Date.now() + 60_000;
    while (ids.some((id) => !got.has(id))) {
      assert.ok(Date.now() < end, `no report for ${ids.filter((id) => !got.has(id)).join(', ')} within 60 s:\n${worker.stdout}`);
      for (const r of await reader.next(1000)) got.set(r.job, r.event);
    }
    return got;
  };
  const ledger = async () => Object.fromEntries(Object.entries(await redis.hgetall(`unetflow:${name}:ledger`)).map(([k, v]) => [k, JSON.parse(v) as { status: string; hash: string; size: number; mtimeMs: number }]));
  const output = (n: string) => readFile(join(p.dir, 'out', n));
  const close = async () => {
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exit, 0, worker.stderr);
    await queue.close();
    redis.disconnect();
    blocking.disconnect();
  };
  return { p, worker, job, reports, ledger, output, close };
}

const message = (e: Relayed['event'] | undefined) => (e?.type === 'file-failed' ? e.message : `not a failure: ${JSON.stringify(e)}`);

test("a job naming another input's output stem is refused, and that input's outputs, report and ledger entry stay as they are", skip, async () => {
  const { p, job, reports, ledger, output, close } = await doneProject('stems');
  try {
    const before = { image: await output('f000.image.png'), ledger: await ledger() };
    await writePng(join(p.dir, 'in', 'f000.tif'), 78, 16);
    await writePng(join(p.dir, 'in', 'f000.p0.png'), 79, 16);
    const ids = [
      await job('x.png', { stem: 'f000' }), // an image, under f000's names: it would replace f000's output
      await job('junk.png', { stem: 'f000' }), // a failure, under f000's names: it would remove f000's output and write f000.error.json
      await job('f000.tif', { stem: 'f000' }), // a stem f000.tif could have, had f000.png not held it first
      await job('f000.p0.png', { stem: 'f000.p0' }), // the name of page 0 of a multi-page f000
    ];
    const got = await reports(ids);
    assert.match(message(got.get(ids[0])), /^x\.png: refused, the job's output stem "f000" is not one a producer gives this file \("x", "x\.png", "x\.png~[0-9a-f]{8}"\): its outputs would take another file's names$/);
    assert.match(message(got.get(ids[1])), /^junk\.png: refused, the job's output stem "f000" is not one a producer gives this file/);
    assert.match(message(got.get(ids[2])), /^f000\.tif: refused, its output stem "f000" belongs to f000\.png: its outputs would replace that file's$/);
    assert.match(message(got.get(ids[3])), /^f000\.p0\.png: refused, its output stem "f000\.p0" belongs to f000\.png/);
    assert.deepEqual(await output('f000.image.png'), before.image, "f000's output is untouched");
    assert.deepEqual((await readdir(join(p.dir, 'out'))).sort(), ['f000.image.png', 'f001.image.png'], 'no error report, no other output');
    assert.deepEqual(await ledger(), before.ledger, 'nothing recorded');
    assert.deepEqual(await p.markers().then((m) => m.filter((n) => !n.startsWith('f00'))), [], 'no step ran for them');
  } finally {
    await close();
  }
});

test('a job whose id, path spelling, file kind, fields, hash, size or mtime are not what the worker finds is refused or corrected, never trusted', skip, async () => {
  const { p, job, reports, ledger, close } = await doneProject('payload');
  try {
    const f000 = (await ledger())['f000.png'];
    spawnSync('mkfifo', [join(p.dir, 'in', 'pipe.png')]);
    const ids = {
      // Under another job's id, a report would settle that job's wait in the producer.
      id: await job('x.png', {}, 'f001-hijacked'),
      dot: await job('x.png', { path: './x.png' }, 'dot'),
      fifo: await job('junk.png', { path: 'pipe.png', stem: 'pipe' }, 'fifo'),
      // Jobs carry no page: a worker takes every page of a file, and writes under its names only.
      page: await job('x.png', { page: 3 }, 'paged'),
    };
    const got = await reports(Object.values(ids));
    assert.match(message(got.get(ids.id)), /^x\.png: refused, job f001-hijacked is not the id its pipeline and content hash give \([0-9a-f]{12}…\): not a job a producer made$/);
    assert.match(message(got.get(ids.dot)), /^"\.\/x\.png": refused, not a path as producers write them \("x\.png"\)$/);
    assert.match(message(got.get(ids.fifo)), /^"pipe\.png": refused, it is a FIFO \(named pipe\), not a regular file$/);
    assert.match(message(got.get(ids.page)), /^job paged: not a unetflow job \(page: unknown key 'page'/);
    assert.equal((await ledger())['./x.png'], undefined);

    // x.png's job claiming f000's content (and its job id), with a size and mtime of its own choosing:
    // x.png is processed as it is, and what is recorded is what the worker read, or nothing.
    const forged = await job('x.png', { hash: f000.hash, size: 1, mtimeMs: 1 });
    assert.equal((await reports([forged])).get(forged)?.type, 'file-done');
    assert.equal((await ledger())['x.png'], undefined, 'not recorded: the content is not the job\'s');
    const honest = await job('x.png', { size: 1, mtimeMs: 1 });
    assert.equal((await reports([honest])).get(honest)?.type, 'file-done');
    const s = await stat(join(p.dir, 'in', 'x.png'));
    const x = (await ledger())['x.png'];
    assert.deepEqual({ size: x.size, mtimeMs: x.mtimeMs, hash: x.hash }, { size: s.size, mtimeMs: s.mtimeMs, hash: await hashFile(join(p.dir, 'in', 'x.png')) }, "recorded with the file's own size and mtime");
  } finally {
    await close();
  }
});
