/**
 * A `files:` pipeline run by the page's worker (src/web/worker.ts, built as build:web
 * builds it) on folders of the origin-private file system, against `unetflow run --json`
 * (the real binary) on the same files: the same events, output names and pixels; a
 * corrupt file fails alone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { test } from 'node:test';
import { readImage } from '../../src/io/read.js';
import { tempDir } from '../helpers/files.js';
import { workerPage } from './worker-page.js';

const BIN = resolve('bin/unetflow.js');
const web = workerPage();
const { skip } = web;

const PIPELINE = ['version: 1', 'name: copy', 'source: { files: ../in }', 'steps:', '  - load: { channels: 1 }', '  - save: { dir: ../out, outputs: [image] }', ''].join('\n');

test('a files pipeline in the page gives the events, output names and pixels of unetflow run --json, a torn file failing alone', skip, async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await mkdir(join(dir, 'pipelines'));
  const files: Record<string, number[]> = {};
  for (const name of ['00.png', '01.png']) files[name] = [...(await readFile(join('fixtures/isbi2012/test', name)))];
  files['torn.png'] = files['00.png'].slice(0, 5000);
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, 'in', name), Buffer.from(bytes));
  await writeFile(join(dir, 'pipelines', 'copy.yaml'), PIPELINE);
  const cli = spawnSync(process.execPath, [BIN, 'run', 'pipelines/copy.yaml', '--json'], { cwd: dir, encoding: 'utf8' });
  assert.equal(cli.status, 1, cli.stderr);
  const cliEvents = cli.stdout.trim().split('\n').map((l) => JSON.parse(l));

  const run = await web.runJob({ input: 'run-in', output: 'run-out', files, name: 'copy.yaml', text: PIPELINE, engine: 'auto' });

  const shape = (events: any[]) => events.filter((e) => e.type !== 'log').map((e) => e.type === 'file-done' ? `done ${e.id} ${Object.entries(e.outputs).map(([k, v]) => `${k}=${basename(v as string)}`).join(',')}` : e.type === 'file-failed' ? `failed ${basename(e.file)}` : e.type).sort();
  assert.deepEqual(shape(run.events), shape(cliEvents));
  assert.equal(run.events[0].type, 'started');
  assert.equal(run.events.at(-1).type, 'stats');
  const stats = (events: any[]) => { const { done, failed, skipped, unchangedFailed } = events.at(-1); return { done, failed, skipped, unchangedFailed }; };
  assert.deepEqual(stats(run.events), stats(cliEvents));
  const failed = run.events.find((e) => e.type === 'file-failed');
  const cliFailed = cliEvents.find((e) => e.type === 'file-failed');
  assert.match(failed.message, /^steps\[0\]\.load: \/input\/torn\.png: /);
  assert.deepEqual([failed.id, failed.step, basename(failed.report)], [cliFailed.id, cliFailed.step, basename(cliFailed.report)]);
  // The CLI's message; the decoder's own words in the closing parenthesis are libpng's there, fast-png's here.
  const words = (m: string, folder: string) => m.replace(folder, '').replace(/ \([^()]*\)$/, '');
  assert.equal(words(failed.message, '/input/'), words(cliFailed.message, `${join(dir, 'in')}/`));
  const report = JSON.parse(Buffer.from(run.written['torn.error.json']).toString('utf8'));
  assert.equal(report.file, '/input/torn.png');
  assert.equal(report.errors.length, 1);

  assert.deepEqual(Object.keys(run.written).sort(), ['00.image.png', '01.image.png', 'torn.error.json'], 'the outputs and the report, no temporary file');
  for (const name of ['00.image.png', '01.image.png']) {
    const mine = join(await tempDir(), name);
    await writeFile(mine, Buffer.from(run.written[name]));
    assert.deepEqual((await readImage(mine)).data, (await readImage(join(dir, 'out', name))).data, `${name}: the CLI's pixels`);
  }
});
