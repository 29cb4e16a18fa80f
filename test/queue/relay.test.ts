import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayReader, publish, relayAdd } from '../../src/queue/relay.js';
import { needsRedis, redisForFile } from '../helpers/redis.js';

const skip = needsRedis();
const db = redisForFile({ skip: skip.skip });

const report = (job: string) => ({ job, key: `${job}.png`, event: { type: 'file-done' as const, id: job, file: `${job}.png`, seconds: 1, outputs: {} } });

test('an entry of the stream that is not a report fails the read that reaches it, naming the stream and the entry; the reports around it are read', skip, async () => {
  const blocking = db.redis.duplicate();
  after(() => blocking.disconnect());
  const reader = await RelayReader.open(blocking, 'malformed');
  await publish(db.redis, 'malformed', report('a'));
  const [stream, ...trim] = relayAdd('unetflow:malformed:relay', report('x'));
  const id = await db.redis.xadd(stream, ...trim.slice(0, 4), 'job', 'x', 'key', 'x.png', 'event', JSON.stringify({ type: 'file-done', id: 'x', file: 'x.png', seconds: 'slow', outputs: {} }));
  const torn = await db.redis.xadd(stream, '*', 'job', 'y', 'key', 'y.png', 'event', '{"type": "file-');
  await publish(db.redis, 'malformed', report('b'));

  assert.deepEqual(await reader.next(1000), [report('a')], 'the report before it');
  await assert.rejects(reader.next(1000), new RegExp(`^Error: Redis stream unetflow:malformed:relay, entry ${id}: not a worker's report: event\\.seconds: expected number, got "slow"$`));
  await assert.rejects(reader.next(1000), new RegExp(`^Error: Redis stream unetflow:malformed:relay, entry ${torn}: not a worker's report: event: `));
  assert.deepEqual(await reader.next(1000), [report('b')], 'the report after it');
});
