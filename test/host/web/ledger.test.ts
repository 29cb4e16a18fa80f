/**
 * The page's watch ledger (src/web/host/ledger.ts) in a real browser, on folders of the
 * origin-private file system, against the CLI's (src/pipeline/ledger.ts) on the same
 * files: what one records as done the other does not do again.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ledger } from '../../../src/pipeline/ledger.js';
import { tempDir } from '../../helpers/files.js';
import { hostPage } from './host-page.js';

declare const navigator: any;
declare const hosts: any;

const host = hostPage();
const { skip } = host;

const FILES = { 'a.png': 'image a', 'b.png': 'image b', 'c.png': 'broken c' };

test('the page honours a ledger the CLI wrote, and the CLI one the page added to', skip, async () => {
  const dir = await tempDir();
  for (const [name, text] of Object.entries(FILES)) await writeFile(join(dir, name), text);
  const file = join(dir, 'out', '.unetflow-ledger.jsonl');
  const cli = await Ledger.open(file, dir);
  for (const name of ['a.png', 'b.png']) {
    const path = join(dir, name);
    await cli.record(path, { ...(await cli.check(path)).fingerprint, status: 'done', outputs: { mask: `out/${name}.mask.png` }, stem: name.slice(0, 1) });
  }
  const c = join(dir, 'c.png');
  await cli.record(c, { ...(await cli.check(c)).fingerprint, status: 'failed', outputs: {}, error: 'steps[0].load: c.png: not a PNG' });

  const seen = await host.page().evaluate(async ({ files, ledger }) => {
    const root = await navigator.storage.getDirectory();
    const input = new hosts.HandleFolder(await root.getDirectoryHandle('in1', { create: true }), 'in1');
    const output = new hosts.HandleFolder(await root.getDirectoryHandle('out1', { create: true }), 'out1');
    // The same files, copied in (so with the page's own mtimes: the hash decides).
    for (const [name, text] of Object.entries(files)) await input.writeAtomic(name, text);
    await input.writeAtomic('d.png', 'image d');
    await input.writeAtomic('copy-of-a.png', 'image a');
    await output.writeAtomic('.unetflow-ledger.jsonl', ledger);
    const store = new hosts.FolderLedgerStore(output, '.unetflow-ledger.jsonl');
    const l = await hosts.FolderLedger.open(store, input);
    const verdicts: Record<string, string> = {};
    for (const name of ['a.png', 'b.png', 'c.png', 'd.png', 'copy-of-a.png']) {
      const r = await l.check(name);
      verdicts[name] = r.process ? `process ${r.reason}` : `skip ${r.reason}`;
      if (name === 'd.png') await l.record(name, { ...r.fingerprint, status: 'done', outputs: { mask: 'd.mask.png' }, stem: 'd' });
      if (r.reason === 'same-content') await l.recordSameContent(name, r.fingerprint, r.entry);
    }
    const missing = await l.check('gone.png').then(() => 'checked', (e: Error) => e.message);
    return { verdicts, missing, text: new TextDecoder().decode(await store.read()), hashOfD: await hosts.sha256Hex(new TextEncoder().encode('image d')) };
  }, { files: FILES, ledger: await readFile(file, 'utf8') });

  assert.deepEqual(seen.verdicts, {
    'a.png': 'skip done',
    'b.png': 'skip done',
    'c.png': 'skip failed-before',
    'd.png': 'process new',
    'copy-of-a.png': 'skip same-content',
  });
  assert.match(seen.missing, /in1\/gone\.png: file not found/);
  assert.equal(seen.hashOfD, createHash('sha256').update('image d').digest('hex'), 'the page hashes as the CLI does');

  // The page's ledger back on disk, beside the same files: the CLI does not redo d.png, nor the copy.
  await writeFile(join(dir, 'd.png'), 'image d');
  await writeFile(join(dir, 'copy-of-a.png'), 'image a');
  await writeFile(file, seen.text);
  const reopened = await Ledger.open(file, dir);
  assert.deepEqual(reopened.recovered, []);
  const verdict = async (name: string) => {
    const r = await reopened.check(join(dir, name));
    return r.process ? `process ${r.reason}` : `skip ${r.reason}`;
  };
  assert.equal(await verdict('d.png'), 'skip done');
  assert.equal(await verdict('copy-of-a.png'), 'skip done');
  assert.equal(reopened.get(join(dir, 'copy-of-a.png'))?.sameAs, 'a.png');
  assert.equal(await verdict('a.png'), 'skip done');
});

test('a page ledger with a torn last line and an unreadable one mends them as the CLI does, and a reload redoes nothing recorded', skip, async () => {
  const result = await host.page().evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const input = new hosts.HandleFolder(await root.getDirectoryHandle('in2', { create: true }), 'in2');
    const output = new hosts.HandleFolder(await root.getDirectoryHandle('out2', { create: true }), 'out2');
    await input.writeAtomic('a.png', 'a');
    await input.writeAtomic('b.png', 'b');
    const store = new hosts.FolderLedgerStore(output, '.unetflow-ledger.jsonl');
    const aside = new hosts.FolderLedgerStore(output, '.unetflow-ledger.jsonl.unreadable');
    const first = await hosts.FolderLedger.open(store, input, aside);
    const a = await first.check('a.png');
    await first.record('a.png', { ...a.fingerprint, status: 'done', outputs: {} });
    await store.append('not json\n');
    await store.append('{"path":"b.png","status":"do');
    // A reload: a new ledger on the same folder.
    const second = await hosts.FolderLedger.open(store, input, aside);
    const again = await hosts.FolderLedger.open(store, input, aside);
    return {
      recovered: second.recovered,
      afterMend: again.recovered,
      a: (await again.check('a.png')).reason,
      b: (await again.check('b.png')).reason,
      text: new TextDecoder().decode(await store.read()),
      aside: new TextDecoder().decode(await aside.read()),
    };
  });
  assert.equal(result.recovered.length, 2);
  assert.match(result.recovered[0], /^ledger out2\/\.unetflow-ledger\.jsonl line 2: unreadable, skipped \(not JSON/);
  assert.match(result.recovered[0], /kept in out2\/\.unetflow-ledger\.jsonl\.unreadable/);
  assert.match(result.recovered[1], /line 3: torn \(28 bytes without a newline/);
  assert.deepEqual(result.afterMend, [], 'mended once: the next open finds nothing wrong');
  assert.equal(result.a, 'done');
  assert.equal(result.b, 'new');
  assert.equal(result.text.split('\n').filter(Boolean).length, 1);
  assert.match(result.aside, /line 2: not json\n$/);
});
