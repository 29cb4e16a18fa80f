import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broadcaster, ClientQueue, sseMessage } from '../../src/serve/sse.js';

test('a page gets the snapshot first, then the messages in order', async () => {
  const q = new ClientQueue({ snapshot: () => 'S', capacity: 4 });
  q.push('a');
  q.push('b');
  assert.deepEqual([await q.next(), await q.next(), await q.next()], ['S', 'a', 'b']);
  const waiting = q.next();
  q.push('c');
  assert.equal(await waiting, 'c', 'a waiting reader gets the next message directly');
});

test('a page that does not read never holds more than its capacity: the queue is dropped and counted', () => {
  const q = new ClientQueue({ snapshot: () => 'S', capacity: 100 });
  for (let i = 0; i < 10_000; i++) {
    q.push(`m${i}`);
    assert.ok(q.length <= 100, `queue at ${q.length} after ${i + 1} messages`);
  }
  // The snapshot and m0-m98 fill it; m99 overflows, dropping those 100 and itself. Then every
  // 101st message overflows again: 99 overflows of 101 in all, and m9998, m9999 left queued.
  assert.equal(q.droppedTotal, 99 * 101);
  assert.equal(q.length, 2);
});

test('after dropping, the page is told how many updates it lost, then gets a fresh snapshot', async () => {
  let version = 0;
  const q = new ClientQueue({ snapshot: () => `S${version}`, capacity: 3 });
  for (const m of ['a', 'b', 'c']) q.push(m); // S0, a, b fill it; c overflows: all 4 dropped
  version = 1;
  const next = await q.next();
  assert.equal(next, `${sseMessage('dropped', { count: 4, total: 4 })}S1`);
  q.push('d');
  assert.equal(await q.next(), 'd');
});

test('broadcast reaches every page through its stream; a page that leaves is removed', async () => {
  const b = new Broadcaster(() => sseMessage('snapshot', { n: 0 }), 8);
  const one = b.stream().getReader();
  const two = b.stream().getReader();
  assert.equal(b.size, 2);
  b.broadcast('file', { id: 'a' });
  const decode = async (r: ReadableStreamDefaultReader<Uint8Array>) => new TextDecoder().decode((await r.read()).value);
  for (const r of [one, two]) {
    assert.equal(await decode(r), 'event: snapshot\ndata: {"n":0}\n\n');
    assert.equal(await decode(r), 'event: file\ndata: {"id":"a"}\n\n');
  }
  await two.cancel();
  assert.equal(b.size, 1);
  b.closeAll();
  assert.equal((await one.read()).done, true);
});
