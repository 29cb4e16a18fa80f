import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseQueueUrl } from '../../src/queue/connection.js';
import { queueProject, startCli } from '../helpers/queue-project.js';
import { needsRedis, RedisServer } from '../helpers/redis.js';

test('a redis:// URL gives host, port and database, and no TLS', () => {
  const c = parseQueueUrl('redis://db.lab.example:6380/3', {});
  assert.deepEqual(c.options, { host: 'db.lab.example', port: 6380, db: 3, maxRetriesPerRequest: null });
  assert.equal(c.display, 'redis://db.lab.example:6380/3');
});

test('defaults: port 6379, database 0', () => {
  const c = parseQueueUrl('redis://localhost', {});
  assert.equal(c.options.port, 6379);
  assert.equal(c.options.db, 0);
});

test('rediss:// turns TLS on, checked against the host name', () => {
  const c = parseQueueUrl('rediss://queue.lab.example:6380/0', {});
  assert.deepEqual(c.options.tls, { servername: 'queue.lab.example' });
  assert.equal(c.display, 'rediss://queue.lab.example:6380/0');
});

test('a password in the URL is used and never shown', () => {
  const c = parseQueueUrl('redis://:s3cr%40t@10.0.0.5:6379/1', {});
  assert.equal(c.options.password, 's3cr@t');
  assert.equal(c.display, 'redis://:***@10.0.0.5:6379/1');
  assert.ok(!c.display.includes('s3cr'));
});

test('a user and password (Redis ACL) are used and only the user is shown', () => {
  const c = parseQueueUrl('rediss://unetflow:hunter2@h:6379/0', {});
  assert.equal(c.options.username, 'unetflow');
  assert.equal(c.options.password, 'hunter2');
  assert.equal(c.display, 'rediss://unetflow:***@h:6379/0');
});

test('UNETFLOW_REDIS_PASSWORD gives the password when the URL has none, and is never shown', () => {
  const c = parseQueueUrl('redis://h:6379/0', { UNETFLOW_REDIS_PASSWORD: 'from-env' });
  assert.equal(c.options.password, 'from-env');
  assert.equal(c.display, 'redis://:***@h:6379/0');
  assert.equal(c.redact('WRONGPASS for from-env'), 'WRONGPASS for ***');
});

test('redact scrubs the password from a client error message, raw or inside a URL', () => {
  const c = parseQueueUrl('redis://:p%25ss@h:6379/0', {});
  assert.equal(c.redact('connect failed to redis://:p%25ss@h:6379/0 (password p%ss)'), 'connect failed to redis://:***@h:6379/0 (password ***)');
});

test('a URL that is not redis:// or rediss:// is a configuration error (exit 2) that does not repeat the password', () => {
  for (const url of ['http://:pw@h/0', 'localhost:6379', 'redis://h:6379/x']) {
    assert.throws(() => parseQueueUrl(url, {}), (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, 2, url);
      assert.ok(!e.message.includes('pw@'), e.message);
      return true;
    });
  }
});

test('a Redis restart mid-run is said once by the producer and once by each worker, with the reconnection, and no client error goes unhandled', needsRedis(), async () => {
  const server = await RedisServer.start({ appendOnly: true });
  const p = await queueProject({ name: 'reconnect', url: server.url, files: 12, slowMs: 150 });
  const worker = startCli(['worker', p.pipeline]);
  try {
    await worker.waitFor(/taking jobs of/);
    const producer = startCli(['run', p.pipeline]);
    await until(async () => (await readdir(join(p.dir, 'out')).catch(() => [])).filter((n) => n.endsWith('.image.png')).length >= 3);
    // Down until both have said the loss (or, unfixed, met the refusal: ioredis retries every few hundred ms), then up again.
    const said = Promise.all([producer, worker].map((c) => c.waitFor(/lost the connection to the queue's Redis|ECONNREFUSED/)));
    const silent = new Promise((_, reject) => setTimeout(() => reject(new Error(`Redis down for 60 s, and not said:\n${producer.stderr}\n${worker.stderr}`)), 60_000).unref());
    await server.restart(() => Promise.race([said, silent]));
    assert.equal(await producer.exit, 0, producer.stderr);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exit, 0, worker.stderr);
    for (const [who, c] of [['producer', producer], ['worker', worker]] as const) {
      const said = c.stdout + c.stderr;
      assert.doesNotMatch(said, /Unhandled error event/, `${who}:\n${said}`);
      const lost = said.match(/lost the connection to the queue's Redis at redis:\/\/127\.0\.0\.1:\d+\/0 \([^)]*\); waiting for it to come back/g) ?? [];
      assert.equal(lost.length, 1, `${who} says the loss once:\n${said}`);
      assert.equal((said.match(/reconnected to the queue's Redis at redis:\/\/127\.0\.0\.1:\d+\/0/g) ?? []).length, 1, `${who} says the reconnection once:\n${said}`);
      assert.doesNotMatch(said, /ECONNREFUSED[\s\S]*ECONNREFUSED/, `${who}: one line, not one per retry:\n${said}`);
    }
  } finally {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await server.stop();
  }
});

async function until(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    assert.ok(Date.now() < end, 'timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
