/**
 * A `watch:` pipeline run by the page's worker on folders of the origin-private file
 * system: it honours a ledger the CLI wrote, takes files added while it runs, each once,
 * and after a reload (a new run on the same folders) redoes nothing it recorded.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ledger } from '../../src/pipeline/ledger.js';
import { tempDir } from '../helpers/files.js';
import { workerPage } from './worker-page.js';

declare const Worker: any;
declare const navigator: any;
declare const job: any;

const web = workerPage();
const { skip } = web;

const PIPELINE = ['version: 1', 'name: watch-copy', 'source: { watch: { dir: ../in, stableMs: 200 } }', 'steps:', '  - load: { channels: 1 }', '  - save: { dir: ../out, outputs: [image] }', ''].join('\n');

/** Starts a watch run in a fresh worker; its events gather in `job.events`. */
async function start(): Promise<void> {
  await web.page().evaluate(async (text) => {
    const root = await navigator.storage.getDirectory();
    const g = globalThis as any;
    g.job = { events: [], ended: false, worker: new Worker('worker.js', { type: 'module' }), input: await root.getDirectoryHandle('watch-in', { create: true }), output: await root.getDirectoryHandle('watch-out', { create: true }) };
    job.worker.onmessage = (e: { data: any }) => {
      if (e.data.type === 'event') job.events.push(e.data.event);
      else job.ended = e.data;
    };
    job.worker.postMessage({ type: 'run', id: 1, name: 'watch-copy.yaml', text, input: job.input, output: job.output, engine: 'auto' });
  }, PIPELINE);
}

async function put(name: string, bytes: number[]): Promise<void> {
  await web.page().evaluate(async ({ name, bytes }) => {
    const w = await (await job.input.getFileHandle(name, { create: true })).createWritable();
    await w.write(new Uint8Array(bytes));
    await w.close();
  }, { name, bytes });
}

async function events(until: (events: any[]) => boolean): Promise<any[]> {
  await web.page().waitForFunction(`(${until.toString()})(job.events)`, undefined, { timeout: 90_000 });
  return web.page().evaluate(() => job.events);
}

async function stop(): Promise<any[]> {
  await web.page().evaluate(() => job.worker.postMessage({ type: 'stop', id: 1 }));
  await web.page().waitForFunction(() => job.ended !== false, undefined, { timeout: 90_000 });
  const ended = await web.page().evaluate(() => job.ended);
  assert.equal(ended.type, 'end', JSON.stringify(ended));
  return web.page().evaluate(() => { job.worker.terminate(); return job.events; });
}

test('a watch run in the page honours the CLI\'s ledger, takes files added while it runs once each, and a reload redoes nothing', skip, async () => {
  const slices = await Promise.all(['00.png', '01.png', '02.png'].map(async (n) => [...(await readFile(join('fixtures/isbi2012/test', n)))]));
  // The CLI did 00.png: its ledger, as it wrote it, in the output folder.
  const dir = await tempDir();
  await writeFile(join(dir, '00.png'), Buffer.from(slices[0]));
  const cli = await Ledger.open(join(dir, 'out', '.unetflow-ledger.jsonl'), dir);
  await cli.record(join(dir, '00.png'), { ...(await cli.check(join(dir, '00.png'))).fingerprint, status: 'done', outputs: { image: join(dir, 'out', '00.image.png') }, stem: '00' });
  const ledgerText = await readFile(join(dir, 'out', '.unetflow-ledger.jsonl'), 'utf8');

  await web.page().evaluate(async (ledgerText) => {
    const root = await navigator.storage.getDirectory();
    const out = await root.getDirectoryHandle('watch-out', { create: true });
    const w = await (await out.getFileHandle('.unetflow-ledger.jsonl', { create: true })).createWritable();
    await w.write(ledgerText);
    await w.close();
  }, ledgerText);
  await start();
  await put('00.png', slices[0]);
  await put('01.png', slices[1]);
  await events((e) => e.some((x: any) => x.type === 'file-done' && x.id === '01'));
  await put('02.png', slices[2]);
  await events((e) => e.some((x: any) => x.type === 'file-done' && x.id === '02'));
  // A last file, taken after every earlier one was looked at again: nothing came twice meanwhile.
  await put('torn.png', slices[0].slice(0, 4000));
  await events((e) => e.some((x: any) => x.type === 'file-failed'));
  const first = await stop();
  assert.equal(first[0].type, 'started');
  assert.equal(first[0].watch, true);
  assert.deepEqual(first.filter((e: any) => e.type === 'file-done').map((e: any) => e.id).sort(), ['01', '02'], '00.png is the CLI\'s: not done again');
  assert.deepEqual((({ done, failed, skipped }) => ({ done, failed, skipped }))(first.at(-1)), { done: 2, failed: 1, skipped: 1 });

  // A reload: a new run on the same folders, and a new file to know when it has looked at the old ones.
  await start();
  await put('03.png', slices[1].slice(0, 3000));
  await events((e) => e.some((x: any) => x.type === 'file-failed'));
  const second = await stop();
  assert.deepEqual(second.filter((e: any) => e.type === 'file-done'), [], 'nothing redone after the reload');
  assert.deepEqual(second.filter((e: any) => e.type === 'file-failed').map((e: any) => e.file), ['/input/03.png'], 'torn.png, failed before and unchanged, not retried');
  assert.deepEqual((({ done, failed, skipped, unchangedFailed }) => ({ done, failed, skipped, unchangedFailed }))(second.at(-1)), { done: 0, failed: 1, skipped: 3, unchangedFailed: 1 });
  const text = await web.page().evaluate(async () => new TextDecoder().decode(await (await (await job.output.getFileHandle('.unetflow-ledger.jsonl')).getFile()).arrayBuffer()));
  const lines = text.trim().split('\n').map((l: string) => JSON.parse(l));
  assert.deepEqual(lines.map((l: any) => `${l.path} ${l.status}`), ['00.png done', '01.png done', '02.png done', 'torn.png failed', '03.png failed']);
});
