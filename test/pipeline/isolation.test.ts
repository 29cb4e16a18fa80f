import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Isolation } from '../../src/pipeline/isolation.js';

test('a suspect waits for the files in flight, runs alone, and goes before ordinary files that came after it', async () => {
  const gate = new Isolation();
  const order: string[] = [];
  const leaveA = await gate.enter(false);
  const leaveB = await gate.enter(false); // ordinary files share
  const suspect = gate.enter(true).then((leave) => (order.push('suspect'), leave));
  const later = gate.enter(false).then((leave) => (order.push('later'), leave));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [], 'the suspect waits for a and b; the later file waits for the suspect');
  leaveA();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, []);
  leaveB();
  const leaveSuspect = await suspect;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['suspect'], 'nothing else starts while the suspect is in flight');
  leaveSuspect();
  (await later)();
  assert.deepEqual(order, ['suspect', 'later']);
});
