import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as t from 'io-ts';
import { decodeStored, parseStored } from '../../src/codec/stored.js';

const Entry = t.type({ path: t.string, size: t.number });

test('a stored value that matches its codec comes back decoded, keys the codec does not name included', () => {
  assert.deepEqual(parseStored(Entry, '{"path": "a.png", "size": 3, "later": true}', 'ledger.jsonl:1', 'an entry'), { path: 'a.png', size: 3, later: true });
});

test('one that does not match fails naming where it was read, what it should be, and each field that is wrong', () => {
  assert.throws(() => decodeStored(Entry, { path: 3 }, 'ledger.jsonl:7', 'an entry'), {
    message: 'ledger.jsonl:7: not an entry: path: expected string, got 3; size: expected number, got nothing',
  });
  assert.throws(() => parseStored(Entry, '{"path": "a.p', 'Redis hash h, field "a.png"', 'an entry'), /^Error: Redis hash h, field "a\.png": not an entry: not JSON \(/);
});
