/**
 * `npm run build:web` (scripts/build-web.ts): the static folder the page runs from, and
 * the rule that keeps Node out of it.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildWeb } from '../../scripts/build-web.js';
import { tempDir } from '../helpers/files.js';

test('the web build is a static folder with the model, the pipelines and their list, the demo slices, ONNX Runtime Web and what to keep offline', async () => {
  const out = join(await tempDir('unetflow-web-build-'), 'web');
  const built = await buildWeb(out, () => undefined, { 'hosts.js': 'test/host/web/page-entry.ts' });
  assert.deepEqual(built.bundles, ['hosts.js']);
  assert.match(await readFile(join(out, 'index.html'), 'utf8'), /<title>unetflow<\/title>/);
  assert.deepEqual(await readFile(join(out, 'models/isbi2012-em/model.json')), await readFile('models/isbi2012-em/model.json'));
  const pipelines = (await readdir('pipelines')).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(JSON.parse(await readFile(join(out, 'pipelines/index.json'), 'utf8')), pipelines);
  assert.ok(pipelines.includes('demo.yaml'));
  assert.deepEqual(await readdir(join(out, 'fixtures/isbi2012/test')), ['00.png', '01.png', '02.png']);
  const ort = await readdir(join(out, 'ort'));
  for (const f of ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.jsep.wasm']) assert.ok(ort.includes(f), `ort/${f} is in the build`);
  const precache = JSON.parse(await readFile(join(out, 'precache.json'), 'utf8')) as string[];
  assert.ok(precache.includes('models/isbi2012-em/weights.90d3d23d1cbfa200.bin'));
  assert.ok(precache.includes('ort/ort-wasm-simd-threaded.wasm'));
  assert.ok(precache.every((u) => !u.startsWith('/') && !u.includes('\\')), 'relative URLs');
});

test('a page bundle that reaches a Node module fails the build, naming the module and the file that imports it', async () => {
  const dir = await tempDir('unetflow-web-build-');
  const entry = join(dir, 'entry.ts');
  // The ledger's file code (node:fs, node:crypto), which the page must reach only through src/host.
  await writeFile(entry, `import { Ledger } from '${process.cwd()}/src/pipeline/ledger.js';\nconsole.log(Ledger);\n`);
  await assert.rejects(buildWeb(join(dir, 'web'), () => undefined, { 'bad.js': entry }), (error: Error) => {
    assert.match(error.message, /node:[a-z_/]+ runs only in Node, and src\/[\w/.-]+\.ts imports it: the page must reach it through src\/host/);
    return true;
  });
});
