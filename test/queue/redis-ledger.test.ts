/** The queue's ledger against the file ledger it must behave like: the same steps, the same answers. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ledger, type CheckResult, type Fingerprint } from '../../src/pipeline/ledger.js';
import { RedisLedger } from '../../src/queue/redis-ledger.js';
import { RelayReader } from '../../src/queue/relay.js';
import { tempDir } from '../helpers/files.js';
import { needsRedis, redisForFile } from '../helpers/redis.js';
import { queueProject, startCli } from '../helpers/queue-project.js';

const skip = needsRedis();
const db = redisForFile({ skip: skip.skip });

const answer = (r: CheckResult) => ({ process: r.process, reason: r.reason, entry: r.process ? undefined : r.entry.path, hash: r.fingerprint.hash });

test('the Redis ledger answers as the file ledger does: new, done, same content, changed, failed until changed, redone', skip, async () => {
  const dir = await tempDir('unetflow-redis-ledger-');
  const file = await Ledger.open(join(dir, 'ledger.jsonl'), dir);
  const queue = new RedisLedger(db.redis, 'semantics', dir);
  const a = join(dir, 'a.png');
  const b = join(dir, 'b.png');
  const both = async (path: string) => {
    const [f, q] = [await file.check(path), await queue.check(path)];
    assert.deepEqual(answer(q), answer(f), path);
    return f;
  };
  const record = async (path: string, entry: Fingerprint & { status: 'done' | 'failed'; error?: string }) => {
    await file.record(path, { outputs: {}, ...entry });
    await queue.recordKey(queue.key(path), { outputs: {}, ...entry });
  };

  await writeFile(a, 'first');
  const first = await both(a);
  assert.equal(first.reason, 'new');
  await record(a, { ...first.fingerprint, status: 'done' });
  assert.equal((await both(a)).reason, 'done');

  await copyFile(a, b);
  const copy = await both(b);
  assert.equal(copy.reason, 'same-content');
  assert.ok(!copy.process);
  await file.recordSameContent(b, copy.fingerprint, copy.entry);
  await queue.recordSameContent(b, copy.fingerprint, (await queue.get(a))!);
  assert.equal((await queue.get(b))!.sameAs, 'a.png');
  assert.equal((await both(b)).reason, 'done');

  await writeFile(a, 'second');
  const changed = await both(a);
  assert.equal(changed.reason, 'changed');
  await record(a, { ...changed.fingerprint, status: 'failed', error: 'not an image' });
  assert.equal((await both(a)).reason, 'failed-before');
  await utimes(a, new Date(), new Date(Date.now() + 5000)); // touched, same bytes: still failed
  assert.equal((await both(a)).reason, 'failed-before');

  await writeFile(a, 'third');
  assert.equal((await both(a)).reason, 'changed');
  // A new path with the content that failed is not "the same content as a done file".
  await writeFile(join(dir, 'c.png'), 'second');
  assert.equal((await both(join(dir, 'c.png'))).reason, 'new');
});

test('keys are paths relative to the source folder, so machines mounting it elsewhere share entries', skip, async () => {
  const one = new RedisLedger(db.redis, 'mounts', '/mnt/lab/in');
  const other = new RedisLedger(db.redis, 'mounts', '/data/lab/in');
  await one.recordKey(one.key('/mnt/lab/in/day1/a.png'), { size: 1, mtimeMs: 1, hash: 'h', status: 'done', outputs: { mask: 'day1/a.mask.png' } });
  assert.deepEqual((await other.get('/data/lab/in/day1/a.png'))?.outputs, { mask: 'day1/a.mask.png' });
});

test('an entry and its report are written together: a reader opened before reads the report, with the entry in place', skip, async () => {
  const ledger = new RedisLedger(db.redis, 'relay', '/in');
  const blocking = db.redis.duplicate();
  after(() => blocking.disconnect());
  const reader = await RelayReader.open(blocking, 'relay');
  const event = { type: 'file-done' as const, id: 'a', file: '/in/a.png', seconds: 1, outputs: {}, worker: 'h:1' };
  await ledger.recordKey('a.png', { size: 1, mtimeMs: 1, hash: 'h', status: 'done', outputs: {} }, { job: 'j1', key: 'a.png', event });
  const [report] = await reader.next(1000);
  assert.deepEqual(report, { job: 'j1', key: 'a.png', event });
  assert.equal((await ledger.getKey('a.png'))?.status, 'done');
  assert.deepEqual(await reader.next(10), [], 'read once');
});

test('an entry in Redis that is not a ledger entry fails every read of it, naming the hash and the field', skip, async () => {
  const dir = await tempDir('unetflow-redis-ledger-');
  const ledger = new RedisLedger(db.redis, 'malformed', dir);
  await writeFile(join(dir, 'a.png'), 'first');
  await db.redis.hset('unetflow:malformed:ledger', 'a.png', JSON.stringify({ path: 'a.png', status: 'dnoe', outputs: {}, size: 5, mtimeMs: 1, time: 't' }));
  await db.redis.hset('unetflow:malformed:ledger', 'b.png', '{"path": "b.png", "status": "do');
  const expected = /^Error: Redis hash unetflow:malformed:ledger, field "a\.png": not a ledger entry: status: expected 'done' \| 'failed', got "dnoe"$/;
  await assert.rejects(ledger.check(join(dir, 'a.png')), expected);
  await assert.rejects(ledger.getKey('a.png'), expected);
  // A hash's fields come back in no set order (a value over 64 bytes makes it a hash table): either bad field may be the one named.
  await assert.rejects(ledger.list(), /^Error: Redis hash unetflow:malformed:ledger, field "[ab]\.png": not a ledger entry: /);
  await assert.rejects(ledger.getKey('b.png'), /^Error: Redis hash unetflow:malformed:ledger, field "b\.png": not a ledger entry: not JSON \(/);
});

test('a producer that finds an entry in the queue\'s ledger that is not one stops, naming the hash and the field, through the binary', { ...skip, timeout: 60_000 }, async () => {
  const p = await queueProject({ name: 'bad-entry', url: db.server.url, files: 1 });
  await db.redis.hset('unetflow:bad-entry:ledger', 'f000.png', JSON.stringify({ path: 'f000.png', status: 'done', outputs: 'f000.image.png', size: 1, mtimeMs: 1, time: 't' }));
  const producer = startCli(['run', p.pipeline]);
  const ended = await Promise.race([producer.exit, new Promise((r) => setTimeout(r, 30_000, 'still running'))]);
  if (ended === 'still running') producer.child.kill('SIGKILL');
  assert.equal(ended, 1, producer.stderr);
  assert.match(producer.stderr, /Redis hash unetflow:bad-entry:ledger, field "f000\.png": not a ledger entry: outputs: expected output names and their paths, got "f000\.image\.png"/);
});
