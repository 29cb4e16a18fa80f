/** `unetflow status`; credentials kept out of every line a producer, a worker or status prints; TLS. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { needsRedis, RedisServer } from '../helpers/redis.js';
import { queueProject, startCli } from '../helpers/queue-project.js';

const skip = needsRedis();
const PASSWORD = 'pa55-word!';
let server: RedisServer;
before(async () => {
  if (!skip.skip) server = await RedisServer.start({ password: PASSWORD });
});
after(() => server?.stop());

test('status shows waiting, active, done and failed counts and the workers, and no one prints the password', skip, async () => {
  const p = await queueProject({ name: 'stat', url: server.url, files: 3, bad: true });
  const worker = startCli(['worker', p.pipeline]);
  await worker.waitFor(/taking jobs of stat from redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0/);
  const producer = startCli(['run', p.pipeline]);
  assert.equal(await producer.exit, 1, producer.stderr);

  const json = startCli(['status', '--queue', server.url, '--json']);
  assert.equal(await json.exit, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { queue: 'stat', waiting: 0, active: 0, done: 3, failed: 1, workers: [workerName(worker)] });
  const text = startCli(['status', '--queue', server.url, 'stat']);
  assert.equal(await text.exit, 0, text.stderr);
  assert.match(text.stdout, /^stat \(redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0\): 0 waiting, 0 active, 3 done, 1 failed; 1 worker: \S+:\d+\n$/);

  const wrong = startCli(['status', '--queue', server.url.replace(encodeURIComponent(PASSWORD), 'not-it')]);
  assert.equal(await wrong.exit, 1);
  assert.match(wrong.stderr, /cannot reach the queue's Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: .*(WRONGPASS|invalid username-password)/);

  worker.child.kill('SIGTERM');
  assert.equal(await worker.exit, 0);
  for (const c of [worker, producer, json, text, wrong]) {
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), 'not-it']) {
      assert.ok(!(c.stdout + c.stderr).includes(secret), `printed a password: ${c.stdout}${c.stderr}`);
    }
  }
});

function workerName(c: ReturnType<typeof startCli>): string {
  return /worker (\S+:\d+): taking jobs/.exec(c.stderr)![1];
}

// The test's certificates are made with openssl (Debian's openssl package).
const tlsSkip = skip.skip ? skip : { skip: spawnSync('openssl', ['version']).error ? 'openssl not installed (Debian package openssl)' : false };

test('rediss:// talks TLS, checking the server certificate: trusted through NODE_EXTRA_CA_CERTS, refused at once without it', tlsSkip, async () => {
  const tls = await RedisServer.start({ tls: true });
  try {
    const trusted = startCli(['status', '--queue', tls.url], { NODE_EXTRA_CA_CERTS: tls.caFile });
    assert.equal(await trusted.exit, 0, trusted.stderr);
    assert.match(trusted.stdout, /^no unetflow queues at rediss:\/\/localhost:\d+\/0\n$/);
    const untrusted = startCli(['status', '--queue', tls.url]);
    assert.equal(await untrusted.exit, 1);
    assert.match(untrusted.stderr, /cannot reach the queue's Redis at rediss:\/\/localhost:\d+\/0: self-signed certificate in certificate chain/);
  } finally {
    await tls.stop();
  }
});
