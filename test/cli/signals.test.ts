/**
 * SIGHUP (a closed terminal or ssh session) stops a queue worker as SIGTERM does,
 * through the binary with a real redis-server: the job in flight is finished and
 * recorded, and the worker exits 0. (The run's side: test/cli/exit-codes.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { needsRedis, redisForFile } from '../helpers/redis.js';
import { queueProject, startCli } from '../helpers/queue-project.js';

const skip = needsRedis();
const db = redisForFile({ skip: skip.skip });

test('a worker sent SIGHUP finishes the job in flight, records it and exits 0', { ...skip, timeout: 60_000 }, async () => {
  const p = await queueProject({ name: 'hangup', url: db.server.url, files: 1, slowMs: 800 });
  const worker = startCli(['worker', p.pipeline, '--json']);
  db.running.push(worker);
  await worker.waitFor(/taking jobs of/);
  const producer = startCli(['run', p.pipeline, '--json']);
  db.running.push(producer);
  while ((await p.markers()).length === 0) await new Promise((r) => setTimeout(r, 20));
  worker.child.kill('SIGHUP');
  assert.equal(await worker.exit, 0, worker.stderr);
  assert.match(worker.stderr, /SIGHUP: finishing the jobs in progress/);
  assert.ok((await readdir(join(p.dir, 'out'))).includes('f000.image.png'), 'the job in flight was finished');
  const entries = Object.values(await db.redis.hgetall('unetflow:hangup:ledger')).map((t) => JSON.parse(t) as { status: string });
  assert.deepEqual(entries.map((e) => e.status), ['done']);
  assert.equal(await producer.exit, 0, producer.stderr);
});
