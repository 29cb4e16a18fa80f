/**
 * The page's runner (src/web/runner.ts) in its Web Worker, built as `npm run build:web`
 * builds it and served from http://127.0.0.1 to Debian's chromium: a pipeline file gets
 * the messages `unetflow validate` (the real binary) gives it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/files.js';
import { workerPage } from './worker-page.js';

declare const Worker: any;

const BIN = resolve('bin/unetflow.js');
const web = workerPage();
const { skip } = web;

/** What the page's worker answers to `validate` for the file `name` holding `text`. */
function validateInWorker(name: string, text: string): Promise<{ valid: boolean; line?: string; message?: string; notes?: string[] }> {
  return web.page().evaluate(({ name, text }) => new Promise((ok, fail) => {
    const worker = new Worker('worker.js', { type: 'module' });
    worker.onerror = (e: { message: string }) => fail(new Error(`the worker failed: ${e.message}`));
    worker.onmessage = (e: { data: { type: string; result: unknown; message?: string } }) => {
      worker.terminate();
      if (e.data.type === 'validation') ok(e.data.result as never);
      else fail(new Error(`the worker answered ${JSON.stringify(e.data)}`));
    };
    worker.postMessage({ type: 'validate', id: 1, name, text });
  }), { name, text });
}

/** `unetflow validate NAME` in `dir`: its exit code, stdout and stderr. */
function validateWithCli(dir: string, name: string) {
  const r = spawnSync(process.execPath, [BIN, 'validate', name], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the Quick start pipeline is valid in the page, in the words of unetflow validate', skip, async () => {
  const cli = validateWithCli(resolve('pipelines'), 'demo.yaml');
  assert.equal(cli.code, 0, cli.stderr);
  const page = await validateInWorker('demo.yaml', await readFile('pipelines/demo.yaml', 'utf8'));
  assert.equal(page.valid, true, page.message);
  assert.equal(page.line, cli.stdout.trim());
});

test('every shipped pipeline but the training ones validates in the page as it does in the CLI', skip, async () => {
  for (const name of ['segment-watch.yaml', 'evaluate-isbi2012.yaml', 'weightmaps.yaml', 'augment-preview.yaml']) {
    const text = await readFile(join('pipelines', name), 'utf8');
    const page = await validateInWorker(name, text);
    const cli = validateWithCli(resolve('pipelines'), name);
    if (cli.code === 0) assert.equal(page.line, cli.stdout.trim(), `${name}: ${page.message}`);
    else assert.equal(page.message, cli.stderr.trim(), name);
  }
});

test('a pipeline with mistakes gets the messages of unetflow validate: file, line, step path, did-you-mean', skip, async () => {
  const dir = await tempDir();
  const text = [
    'version: 1',
    'name: mistakes',
    'sed: 3',
    'source: { files: ../in }',
    'steps:',
    '  - load: { channels: 1, chanel: 0 }',
    '  - mirorr: { margin: 92 }',
    '  - tile: { input: 572, output: 388, size: 256 }',
    '  - threshold: { class: 1, at: 1.5 }',
    '  - watershed: { seeds: 2 }',
    '  - save: { dir: ../out, outputs: [mask, overlays] }',
    '',
  ].join('\n');
  await writeFile(join(dir, 'mistakes.yaml'), text);
  const cli = validateWithCli(dir, 'mistakes.yaml');
  assert.equal(cli.code, 2);
  const page = await validateInWorker('mistakes.yaml', text);
  assert.equal(page.valid, false);
  assert.equal(page.message, cli.stderr.trim());
  assert.match(page.message!, /^mistakes\.yaml:3:1 sed: unknown key 'sed' — did you mean 'seed'\?$/m);
  assert.match(page.message!, /^mistakes\.yaml:7:5 steps\[1\]\.mirorr: unknown operator 'mirorr' — did you mean 'mirror'\?$/m);
});

test('a YAML syntax error and a variable the page does not have read as in the CLI', skip, async () => {
  const dir = await tempDir();
  const cases = {
    'syntax.yaml': 'version: 1\nname: x\nsteps: [ { load: {} }\n',
    'variable.yaml': 'version: 1\nname: x\nsource: { files: "${UNETFLOW_TEST_NOT_SET}" }\nsteps:\n  - load: {}\n',
  };
  for (const [name, text] of Object.entries(cases)) {
    await writeFile(join(dir, name), text);
    const cli = validateWithCli(dir, name);
    assert.equal(cli.code, 2, name);
    const page = await validateInWorker(name, text);
    assert.equal(page.message, cli.stderr.trim(), name);
  }
});

test('a training step is refused at its step, saying that a page cannot train', skip, async () => {
  const text = await readFile('pipelines/train-isbi2012.yaml', 'utf8');
  const page = await validateInWorker('train-isbi2012.yaml', text);
  assert.equal(page.valid, false);
  assert.match(page.message!, /^train-isbi2012\.yaml:\d+:\d+ steps\[\d+\]\.train: training runs in the CLI only \(unetflow run\), not in a page/m);
});
