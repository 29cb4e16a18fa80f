import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TileBudget, releaseTile } from '../src/tile-budget.js';

test('a budget lends at most its size of permits, each given back once', () => {
  const budget = new TileBudget(2, 5);
  let released = 0;
  budget.onRelease(() => released++);
  assert.ok(budget.take(0));
  assert.ok(budget.take(1));
  assert.equal(budget.take(2), false);
  assert.equal(budget.inFlight, 2);
  budget.release(1);
  budget.release(1); // the same tile again: nothing
  budget.release(4); // a tile that holds none: nothing
  assert.equal(released, 1);
  assert.ok(budget.take(2));
  assert.equal(budget.take(3), false);
  assert.equal(budget.peak, 2);
  assert.throws(() => new TileBudget(0, 5), /at least 1 permit, got 0/);
});

test('a lifted budget lends to every tile; a closed one holds nothing and calls no one', () => {
  const budget = new TileBudget(1, 4);
  let released = 0;
  budget.onRelease(() => released++);
  assert.ok(budget.take(0));
  budget.lift();
  assert.equal(released, 1);
  assert.ok(budget.take(1) && budget.take(2));
  assert.equal(budget.peak, 3);
  budget.close();
  assert.equal(budget.inFlight, 0);
  budget.release(1);
  assert.equal(released, 1);
});

test('releaseTile gives back the permit a tile sample holds and ignores anything else', () => {
  const budget = new TileBudget(1, 2);
  budget.take(1);
  releaseTile({ id: 'a#1', tile: { index: 1, budget } });
  assert.equal(budget.inFlight, 0);
  for (const item of [undefined, 'a.png', { id: 'a' }, { tile: { index: 0 } }]) releaseTile(item);
});
