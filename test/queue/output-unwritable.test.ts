/**
 * A queue worker whose output disk is full, through the binary: real redis-server, a
 * real tmpfs as the output folder. The job goes back unrecorded, no error report is
 * written, the worker waits instead of exiting, and does the job once there is room.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { needsRedis, RedisServer } from '../helpers/redis.js';
import { events, queueProject, startCli, type Cli } from '../helpers/queue-project.js';
import { writePng } from '../helpers/files.js';
import { Tmpfs, tmpfsSkip } from '../helpers/tmpfs.js';

const skip = needsRedis().skip || tmpfsSkip();
let server: RedisServer;
let redis: Redis;
const running: Cli[] = [];
before(async () => {
  if (skip) return;
  server = await RedisServer.start();
  redis = new Redis(server.url);
});
after(async () => {
  for (const cli of running) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  redis?.disconnect();
  await server?.stop();
});

test('a worker whose output disk is full gives the job back unrecorded, writes no report, waits, and does the job once there is room', { skip, timeout: 120_000 }, async () => {
  const p = await queueProject({ name: 'full-disk', url: server.url, files: 1 });
  // An image whose PNG does not fit in what `fill` leaves, while an error report would.
  await writePng(join(p.dir, 'in', 'f000.png'), 1, 256);
  const out = Tmpfs.mount(join(p.dir, 'out'), '1m');
  try {
    await out.fill();
    const worker = startCli(['worker', p.pipeline, '--json']);
    running.push(worker);
    await worker.waitFor(/taking jobs of/);
    const producer = startCli(['run', p.pipeline, '--json']);
    running.push(producer);
    await worker.waitFor(/cannot be written: ENOSPC|"file-failed"/);
    await worker.waitFor(/trying again in|"file-failed"/);
    assert.equal(worker.child.exitCode, null, `the worker goes on: ${worker.stderr}`);
    assert.deepEqual(events(worker).filter((e) => e.type === 'file-failed'), [], 'no file failed');
    assert.match(worker.stdout, new RegExp(`the output folder ${join(p.dir, 'out')} cannot be written: ENOSPC`));
    assert.ok(!existsSync(join(p.dir, 'out', 'f000.error.json')), 'no error report');
    assert.deepEqual(await redis.hgetall('unetflow:full-disk:ledger'), {}, 'nothing recorded');

    await out.free();
    assert.equal(await producer.exit, 0, producer.stderr);
    const stats = events(producer).find((e) => e.type === 'stats');
    assert.equal(stats?.done, 1);
    assert.equal(stats?.failed, 0);
    assert.ok(existsSync(join(p.dir, 'out', 'f000.image.png')));
    const entries = Object.values(await redis.hgetall('unetflow:full-disk:ledger')).map((t) => JSON.parse(t) as { status: string });
    assert.deepEqual(entries.map((e) => e.status), ['done']);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exit, 0, worker.stderr);
  } finally {
    out.unmount();
  }
});
