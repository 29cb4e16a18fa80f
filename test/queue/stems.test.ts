import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { LedgerEntry } from '../../src/pipeline/ledger.js';
import { StemClaims, stemProblem } from '../../src/queue/stems.js';
import { needsRedis, redisForFile } from '../helpers/redis.js';

const skip = needsRedis();
const db = redisForFile({ skip: skip.skip });

test("the stems a producer may give a file are its name, with its extension, and with its path's hash; any other is named as refused", () => {
  const root = '/lab/in';
  assert.equal(stemProblem({ path: join(root, 'day1', 'a.png'), root }, 'day1/a', 'day1/a.png'), undefined);
  assert.equal(stemProblem({ path: join(root, 'day1', 'a.png'), root }, 'day1/a.png', 'day1/a.png'), undefined);
  assert.match(stemProblem({ path: join(root, 'day1', 'a.png'), root }, 'a', 'day1/a.png') ?? '', /^day1\/a\.png: refused, the job's output stem "a" is not one a producer gives this file \("day1\/a", "day1\/a\.png", "day1\/a\.png~[0-9a-f]{8}"\)/);
  assert.match(stemProblem({ path: join(root, 'b.png'), root }, '../b', 'b.png') ?? '', /refused/);
});

test('a stem is held by the first input to claim it, case aside, and pages collide with the plain stem both ways', skip, async () => {
  const claims = new StemClaims(db.redis, 'claims');
  assert.equal(await claims.claim('a.png', 'a'), undefined);
  assert.equal(await claims.claim('a.png', 'a'), undefined, 'again by its holder');
  assert.equal(await claims.claim('A.tif', 'A'), 'a.png');
  assert.equal(await claims.claim('a.p0.png', 'a.p0'), 'a.png', "the name of a's page 0");
  assert.equal(await claims.claim('s.tif', 's.p3'), undefined);
  assert.equal(await claims.claim('s.png', 's'), 's.tif', "s's pages would be s.tif's names");
});

test('a queue older than the claims has them seeded from its ledger, same-content entries aside', skip, async () => {
  const entry = (path: string, stem?: string, sameAs?: string): LedgerEntry => ({ path, stem, sameAs, size: 1, mtimeMs: 1, status: 'done', outputs: {}, time: '' });
  const claims = new StemClaims(db.redis, 'seeded');
  await claims.seed(async () => [entry('a.png', 'a'), entry('copy.png', undefined, 'a.png'), entry('b.tif', 'b.tif')]);
  assert.equal(await claims.claim('a.tif', 'a'), 'a.png');
  assert.equal(await claims.claim('b.tif.png', 'b.tif'), 'b.tif');
  assert.equal(await claims.claim('copy.png', 'copy'), undefined);
  // Seeded once: a later seed (another worker starting) does not claim again from an older ledger.
  await claims.seed(async () => [entry('z.png', 'a.tif')]);
  assert.equal(await claims.claim('a.tif', 'a.tif'), undefined);
});
