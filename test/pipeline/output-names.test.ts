import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runPipeline } from '../../src/pipeline/run.js';
import { encodeImage } from '../../src/io/write.js';
import { readImage } from '../../src/io/read.js';
import { collect, ofType, tempDir, writePng } from '../helpers/files.js';
import { tap } from 'rxjs';
import type { RunEvent } from '../../src/events.js';
import { pixels, randomImage } from '../helpers/images.js';
import { OutputNames } from '../../src/pipeline/output-names.js';
import { fitName, outputPath, STEM_MAX } from '../../src/io/output-path.js';
import { until } from '../helpers/wait.js';

/**
 * Runs a watch pipeline over `dir` until it has dealt with every file in in/ at its
 * start: once it watches, a last file (`sentinel`) is added, which it takes after those,
 * and the run stops when that one is done. Its events and its ledger line are the
 * caller's to leave out.
 */
async function watchOnce(definition: object, dir: string, sentinel: string, seed: number): Promise<RunEvent[]> {
  const stop = new AbortController();
  const events: RunEvent[] = [];
  const run = collect(runPipeline(definition, { baseDir: dir, signal: stop.signal }).pipe(tap((e) => events.push(e))));
  const ended = () => events.some((e) => e.type === 'run-failed');
  await until(() => ended() || events.some((e) => e.type === 'log' && e.message.startsWith('watching')), 'the run to watch in/');
  await writePng(join(dir, 'in', sentinel), seed, 16);
  await until(() => ended() || ofType(events, 'file-done').some((e) => e.file.endsWith(sentinel)), `${sentinel} to be done`);
  stop.abort();
  await run;
  return events.filter((e) => !('file' in e && typeof e.file === 'string' && e.file.endsWith(sentinel)));
}

test('inputs that share a name keep it for the first and add their extension for the next', () => {
  const names = new OutputNames();
  assert.equal(names.claim({ path: '/in/slice.png', root: '/in' }), 'slice');
  assert.equal(names.claim({ path: '/in/slice.tif', root: '/in' }), 'slice.tif');
  // Asked again (a later epoch, a changed file in watch mode): the same answer.
  assert.equal(names.claim({ path: '/in/slice.tif', root: '/in' }), 'slice.tif');
  assert.equal(names.claim({ path: '/in/slice.png', root: '/in' }), 'slice');
});

test("a name ending in .p<n> and a multi-page file's pages never share outputs, in either order", () => {
  const first = new OutputNames();
  assert.equal(first.claim({ path: '/in/s.tif', root: '/in' }), 's');
  assert.equal(first.claim({ path: '/in/s.p0.png', root: '/in' }), 's.p0.png');
  const second = new OutputNames();
  assert.equal(second.claim({ path: '/in/s.p0.png', root: '/in' }), 's.p0');
  assert.equal(second.claim({ path: '/in/s.tif', root: '/in' }), 's.tif');
});

test("a name ending in a z/t plane's suffix and a z/t file's planes never share outputs", () => {
  const names = new OutputNames();
  assert.equal(names.claim({ path: '/in/s.z3.t0.png', root: '/in' }), 's.z3.t0');
  assert.equal(names.claim({ path: '/in/s.tif', root: '/in' }), 's.tif');
  assert.equal(names.claim({ path: '/in/u.t2.png', root: '/in' }), 'u.t2');
  assert.equal(names.claim({ path: '/in/u.ome.tif', root: '/in' }), 'u.ome', 'u.ome.t2 is not u.t2');
});

test('names differing only in case are kept apart, and subfolders are part of the name', () => {
  const names = new OutputNames();
  assert.equal(names.claim({ path: '/in/Cell.png', root: '/in' }), 'Cell');
  assert.equal(names.claim({ path: '/in/cell.png', root: '/in' }), 'cell.png');
  assert.equal(names.claim({ path: '/in/a/x.tif', root: '/in' }), 'a/x');
  assert.equal(names.claim({ path: '/in/x.png', root: '/in' }), 'x');
});

test('when the extension does not part them either, a hash of the path does', () => {
  const names = new OutputNames();
  names.restore('/in/other.png', 'x.png'); // an earlier run gave this stem to another input
  names.claim({ path: '/in/x.tif', root: '/in' });
  const third = names.claim({ path: '/in/x.png', root: '/in' });
  assert.match(third, /^x\.png~[0-9a-f]{8}$/);
  assert.notEqual(third, 'x.png');
});

test('stems restored from a ledger hold against new claims', () => {
  const names = new OutputNames();
  names.restore('/in/slice.tif', 'slice');
  assert.equal(names.claim({ path: '/in/slice.png', root: '/in' }), 'slice.png');
});

test('long names are cut to fit the file system, stay unique and keep their start', () => {
  const a = 'a'.repeat(300);
  const b = `${'a'.repeat(299)}b`;
  const fa = fitName(a);
  const fb = fitName(b);
  assert.ok(Buffer.byteLength(fa) <= STEM_MAX && fa.startsWith('a'.repeat(100)));
  assert.notEqual(fa, fb);
  assert.equal(fitName('short'), 'short');
  // Multi-byte characters are never cut in half.
  const greek = fitName('α'.repeat(200));
  assert.ok(Buffer.byteLength(greek) <= STEM_MAX && !greek.includes('\uFFFD'));
  const path = outputPath('/out', { path: `/in/${'µ'.repeat(120)}.tif`, page: 12, pages: 20 }, 'probabilities', 'tif');
  assert.ok(Buffer.byteLength(path.split('/').pop()!) <= 255, path);
});

test('a run gives every input its own outputs: same stems, page suffixes, subfolders', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in', 'a'), { recursive: true });
  const page = (seed: number) => randomImage(16, 16, 1, 'uint8', seed);
  for (const [name, seed] of [['slice.png', 1], ['x.png', 3], ['s.p0.png', 4]] as const) await writePng(join(dir, 'in', name), seed, 16);
  await writeFile(join(dir, 'in', 'slice.tif'), await encodeImage(page(2), 'tiff'));
  await writeFile(join(dir, 'in', 'a', 'x.tif'), await encodeImage(page(5), 'tiff'));
  await writeFile(join(dir, 'in', 's.tif'), await encodeImage([page(6), page(7)], 'tiff'));
  const events = await collect(
    runPipeline({ version: 1, name: 'n', source: { files: { dir: 'in', recursive: true } }, steps: [{ load: {} }, { save: { dir: 'out', outputs: ['image'] } }] }, { baseDir: dir }),
  );
  assert.equal(ofType(events, 'file-done').length, 6);
  // Every input's pixels are in its own output: 7 images (s.tif has two pages), none overwritten.
  const outputs = ofType(events, 'file-done').flatMap((e) => Object.values(e.outputs));
  assert.equal(new Set(outputs).size, 7);
  const bySource = new Map(ofType(events, 'file-done').map((e) => [e.file.slice(join(dir, 'in').length + 1), e.outputs]));
  assert.equal(bySource.get('slice.png')!.image, join(dir, 'out', 'slice.image.png'));
  assert.equal(bySource.get('slice.tif')!.image, join(dir, 'out', 'slice.tif.image.png'));
  assert.equal(bySource.get('a/x.tif')!.image, join(dir, 'out', 'a', 'x.image.png'));
  for (const [rel, seed] of [['slice.tif', 2], ['s.p0.png', 4]] as const) {
    const [path] = Object.values(bySource.get(rel)!);
    assert.deepEqual(pixels(await readImage(path)), pixels(page(seed)), rel);
  }
  assert.deepEqual(pixels(await readImage(bySource.get('s.tif')!['s.p0.image'])), pixels(page(6)));
});

test('an input whose name is too long for its derived names is processed, and a corrupt one fails alone', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  const long = 'acquisition-'.repeat(20); // 240 characters: legal on ext4, too long with `.mask.png` and a temporary prefix
  await writePng(join(dir, 'in', `${long}good.png`), 1);
  await writeFile(join(dir, 'in', `${long}bad.png`), 'not an image');
  await writePng(join(dir, 'in', 'short.png'), 2);
  const events = await collect(runPipeline({ version: 1, name: 'long', source: { files: 'in' }, steps: [{ load: {} }, { save: { dir: 'out', outputs: ['image'] } }] }, { baseDir: dir }));
  assert.deepEqual(ofType(events, 'file-done').map((e) => e.id.slice(-4)), ['good', 'hort']);
  const [failed] = ofType(events, 'file-failed');
  assert.match(failed.message, /bad\.png: not a readable image/);
  const written = await readdir(join(dir, 'out'));
  assert.equal(written.length, 3);
  for (const name of written) assert.ok(Buffer.byteLength(name) <= 255, name);
  assert.ok(existsSync(failed.report!));
});

test('a watch run keeps the output names it gave across restarts: a later namesake never takes them', { timeout: 30000 }, async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'slice.png'), 1, 16);
  const definition = { version: 1, name: 'w', source: { watch: { dir: 'in', stableMs: 50 } }, steps: [{ load: {} }, { save: { dir: 'out', outputs: ['image'] } }] };
  await watchOnce(definition, dir, 'zz-sentinel-1.png', 101);
  const original = pixels(await readImage(join(dir, 'in', 'slice.png')));
  // While stopped, the processed image is moved away and a namesake arrives: a fresh claim would give it `slice`.
  await rename(join(dir, 'in', 'slice.png'), join(dir, 'slice.png'));
  await writeFile(join(dir, 'in', 'slice.jpg'), await encodeImage(randomImage(16, 16, 1, 'uint8', 2), 'jpeg'));
  const second = await watchOnce(definition, dir, 'zz-sentinel-2.png', 102);
  assert.deepEqual(ofType(second, 'file-done').map((e) => e.outputs.image), [join(dir, 'out', 'slice.jpg.image.png')]);
  assert.deepEqual(pixels(await readImage(join(dir, 'out', 'slice.image.png'))), original);
});

test('in watch mode a file with a too-long name fails alone, is recorded as failed, and a restart goes on', { timeout: 30000 }, async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  const bad = `${'acquisition-'.repeat(20)}bad.png`;
  await writeFile(join(dir, 'in', bad), 'not an image');
  await writePng(join(dir, 'in', 'next.png'), 1, 16);
  const definition = { version: 1, name: 'w', source: { watch: { dir: 'in', stableMs: 50 } }, steps: [{ load: {} }, { save: { dir: 'out', outputs: ['image'] } }] };
  for (const [run, expected] of [{ done: 1, failed: 1 }, { done: 0, failed: 0 }].entries()) {
    const events = await watchOnce(definition, dir, `zz-sentinel-${run}.png`, 100 + run);
    assert.deepEqual([ofType(events, 'file-done').length, ofType(events, 'file-failed').length], [expected.done, expected.failed]);
  }
  const ledger = (await readFile(join(dir, 'out', '.unetflow-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(ledger.filter((e) => !e.path.startsWith('zz-sentinel-')).map((e) => [e.path, e.status]).sort(), [[bad, 'failed'], ['next.png', 'done']]);
});
