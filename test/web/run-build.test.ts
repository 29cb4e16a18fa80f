/**
 * `npm run build:web` (scripts/build-web.ts): the static folder the page runs from, and
 * the rule that keeps Node out of it.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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

test('in a page bundle a Node module shared code imports refuses to be used, naming itself and its importer; node:path is the page\'s own', async () => {
  const dir = await tempDir('unetflow-web-build-');
  const entry = join(dir, 'entry.ts');
  await writeFile(entry, [
    `import { hashFile } from '${process.cwd()}/src/pipeline/ledger.js';`,
    `import { resolve } from 'node:path';`,
    `export const where = resolve('/pipelines', '../models/isbi2012-em');`,
    `export const hashing = () => hashFile('/in/a.png');`,
  ].join('\n'));
  const out = join(dir, 'web');
  await buildWeb(out, () => undefined, { 'entry.js': entry });
  const bundle = await readFile(join(out, 'entry.js'), 'utf8');
  assert.doesNotMatch(bundle, /from ?"node:/, 'no import of a Node module is left in the bundle');
  const module = (await import(pathToFileURL(join(out, 'entry.js')).href)) as { where: string; hashing(): Promise<string> };
  assert.equal(module.where, '/models/isbi2012-em');
  await assert.rejects(module.hashing(), /node:crypto \(imported by src\/pipeline\/ledger\.ts\) runs only in Node, not in a page/);
});
