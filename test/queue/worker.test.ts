/** What a worker does with jobs it must not run: anyone who can write to the queue can write a job. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadPipeline } from '../../src/pipeline/run.js';
import { pipelineHash } from '../../src/queue/job-id.js';
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
