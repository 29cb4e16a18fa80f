/**
 * The page's host implementations (src/web/host) in a real browser, on the
 * origin-private file system (the same FileSystemDirectoryHandle as a folder the user
 * picks): folders, atomic writes, the ledger's storage shared with the CLI, model files.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ledger } from '../../../src/pipeline/ledger.js';
import { tempDir } from '../../helpers/files.js';
import { hostPage } from './host-page.js';

// The page's globals, in the functions run there (this project's TypeScript has no DOM library).
declare const navigator: any;
declare const hosts: any;
declare const location: any;

const host = hostPage({ 'model.json': '{"format":"unetflow-unet"}' });
const { skip } = host;

test('an OPFS folder lists, stats, reads and writes atomically, replacing files and leaving no temporary name', skip, async () => {
  const result = await host.page().evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle('t1', { create: true });
    const folder = new hosts.HandleFolder(dir);
    await folder.writeAtomic('b.png', new Uint8Array([1, 2]));
    await folder.writeAtomic('day1/c.tif', 'ccc');
    await folder.writeAtomic('a.png', 'first');
    await folder.writeAtomic('a.png', 'second, longer');
    const names: string[] = [];
    for await (const [name] of dir.entries()) names.push(name);
    const refused = await folder.read('../x').then(() => 'read', (e: Error) => e.message);
    const missing = await folder.read('none.png').then(() => 'read', (e: Error) => e.message);
    const flat = (await folder.list()).map((e: any) => [e.path, e.size]);
    const all = (await folder.list({ recursive: true })).map((e: any) => e.path);
    const stat = await folder.stat('a.png');
    const text = new TextDecoder().decode(await folder.read('a.png'));
    await folder.remove('b.png');
    await folder.remove('b.png');
    return { names: names.sort(), refused, missing, flat, all, stat, text, gone: await folder.stat('b.png'), bytes: [...(await folder.read('day1/c.tif'))] };
  });
  assert.deepEqual(result.names, ['a.png', 'b.png', 'day1'], 'no temporary file left behind');
  assert.deepEqual(result.flat, [['a.png', 14], ['b.png', 2]]);
  assert.deepEqual(result.all, ['a.png', 'b.png', 'day1/c.tif']);
  assert.equal(result.text, 'second, longer');
  assert.equal(result.stat.size, 14);
  assert.ok(Math.abs(result.stat.mtimeMs - Date.now()) < 10 * 60_000, `mtime ${result.stat.mtimeMs} is a time`);
  assert.equal(result.gone, undefined);
  assert.deepEqual(result.bytes, [99, 99, 99]);
  assert.match(result.refused, /not a file path inside the folder/);
  assert.match(result.missing, /t1\/none\.png: file not found/);
});

test('a ledger written by the CLI reads the same in the page, and what the page appends the CLI honours', skip, async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'a.png'), 'image a');
  await writeFile(join(dir, 'b.png'), 'image b');
  const file = join(dir, 'ledger.jsonl');
  const cli = await Ledger.open(file, dir);
  const a = await cli.check(join(dir, 'a.png'));
  await cli.record(join(dir, 'a.png'), { ...a.fingerprint, status: 'done', outputs: { mask: join(dir, 'out', 'a.mask.png') }, stem: 'a' });
  const written = await readFile(file, 'utf8');
  const b = await cli.check(join(dir, 'b.png'));
  const pageLine = JSON.stringify({ path: 'b.png', ...b.fingerprint, status: 'done', outputs: { mask: 'b.mask.png' }, stem: 'b', time: new Date().toISOString() }) + '\n';

  const seen = await host.page().evaluate(async ({ written, pageLine }) => {
    const root = await navigator.storage.getDirectory();
    const out = new hosts.HandleFolder(await root.getDirectoryHandle('t2', { create: true }));
    await out.writeAtomic('.unetflow-ledger.jsonl', written);
    const store = new hosts.FolderLedgerStore(out, '.unetflow-ledger.jsonl');
    const before = hosts.readLines(hosts.LedgerEntryCodec, await store.read());
    await Promise.all([store.append(pageLine), store.append('')]);
    return { entries: before.lines, unreadable: before.unreadable.length, after: new TextDecoder().decode(await store.read()) };
  }, { written, pageLine });
  assert.deepEqual(seen.entries, written.trim().split('\n').map((l) => JSON.parse(l)), 'the page decodes the CLI\'s lines to the same entries');
  assert.equal(seen.unreadable, 0);
  assert.equal(seen.after, written + pageLine, 'appended after the CLI\'s lines, nothing lost');

  await writeFile(file, seen.after);
  const reopened = await Ledger.open(file, dir);
  assert.equal(reopened.size, 2);
  assert.equal((await reopened.check(join(dir, 'a.png'))).process, false);
  const again = await reopened.check(join(dir, 'b.png'));
  assert.equal(again.process, false, 'the file the page recorded is not redone by the CLI');
  assert.equal(again.process === false && again.reason, 'done');
});

test('model files come from a folder handle or from the URL the app serves them under, and a missing one is named', skip, async () => {
  const result = await host.page().evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const model = new hosts.HandleFolder(await root.getDirectoryHandle('model', { create: true }), 'isbi2012-em');
    await model.writeAtomic('metadata.json', '{"tile":{}}');
    const fromHandle = new TextDecoder().decode(await new hosts.HandleModelFiles(model).read('metadata.json'));
    const fromUrl = new TextDecoder().decode(await new hosts.UrlModelFiles(new URL('.', location.href)).read('model.json'));
    const missing = await new hosts.UrlModelFiles(new URL('./nothing/', location.href)).read('model.json').then(() => 'read', (e: Error) => e.message);
    const outside = await new hosts.HandleModelFiles(model).read('../model.json').then(() => 'read', (e: Error) => e.message);
    return { fromHandle, fromUrl, missing, outside, threads: hosts.browserThreads() };
  });
  assert.equal(result.fromHandle, '{"tile":{}}');
  assert.equal(result.fromUrl, '{"format":"unetflow-unet"}');
  assert.match(result.missing, /nothing\/model\.json: file not found/);
  assert.match(result.outside, /not the name of a file in the model folder isbi2012-em/);
  assert.ok(result.threads.cores >= 1);
  assert.equal(result.threads.sharedMemory, false, 'served without COOP/COEP, the page is not cross-origin isolated');
});
