import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileLedgerStore } from '../../../src/host/node/ledger-store.js';
import { tempDir } from '../../helpers/files.js';

test('a ledger file reads as empty before it exists, then holds what was appended and what replaced it', async () => {
  const dir = await tempDir();
  const store = new FileLedgerStore(join(dir, 'ledger.jsonl'));
  assert.equal((await store.read()).length, 0);
  await store.append('{"a":1}\n');
  await store.append('{"b":2}\n');
  assert.equal(new TextDecoder().decode(await store.read()), '{"a":1}\n{"b":2}\n');
  await store.replace('{"c":3}\n');
  assert.equal(await readFile(join(dir, 'ledger.jsonl'), 'utf8'), '{"c":3}\n');
});

test('a FIFO named as the ledger is refused, not read', async () => {
  const dir = await tempDir();
  execFileSync('mkfifo', [join(dir, 'ledger.jsonl')]);
  await assert.rejects(new FileLedgerStore(join(dir, 'ledger.jsonl')).read(), /is a FIFO \(named pipe\), not a file/);
});
