import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as t from 'io-ts';
import { concatMap, delay, from, map, mergeMap, of, tap, toArray } from 'rxjs';
import { runPipeline } from '../../src/pipeline/run.js';
import { defaultRegistry, registerOperator } from '../../src/pipeline/builtins.js';
import { defineOperator, OperatorRegistry } from '../../src/pipeline/registry.js';
import { readImage } from '../../src/io/read.js';
import { SampleError } from '../../src/errors.js';
import { PipelineError } from '../../src/pipeline/pipeline-error.js';
import type { RunEvent } from '../../src/events.js';
import { collect, ofType, tempDir, writePng } from '../helpers/files.js';
import { pixels } from '../helpers/images.js';

const steps = (out: string) => [
  { load: {} },
  { mirror: { input: 20, output: 12 } },
  { tile: { input: 20, output: 12 } },
  { stitch: {} },
  { save: { dir: out, outputs: ['image'] } },
];

test('a files pipeline processes every image once, in sorted order, and reports each', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  for (const [i, name] of ['b.png', 'a.png', 'c.png'].entries()) await writePng(join(dir, 'in', name), i);
  await writeFile(join(dir, 'in', 'notes.txt'), 'ignored: not an image name');
  const events = await collect(runPipeline({ version: 1, name: 'roundtrip', source: { files: 'in' }, steps: steps('out'), concurrency: 1 }, { baseDir: dir }));
  assert.deepEqual(ofType(events, 'file-done').map((e) => e.id), ['a', 'b', 'c']);
  assert.deepEqual(ofType(events, 'started')[0].total, 3);
  assert.deepEqual(ofType(events, 'stats')[0], { ...ofType(events, 'stats')[0], done: 3, failed: 0, skipped: 0 });
  assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['a.image.png', 'b.image.png', 'c.image.png']);
  assert.deepEqual(pixels(await readImage(join(dir, 'out', 'a.image.png'))), pixels(await readImage(join(dir, 'in', 'a.png'))));
});

test('a corrupt file is reported with a JSON error report and the run goes on', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'good.png'), 1);
  await writeFile(join(dir, 'in', 'bad.png'), (await readFile(join(dir, 'in', 'good.png'))).subarray(0, 40));
  const events = await collect(runPipeline({ version: 1, name: 'x', source: { files: 'in' }, steps: steps('out') }, { baseDir: dir }));
  const failed = ofType(events, 'file-failed');
  assert.equal(failed.length, 1);
  assert.match(failed[0].message, /steps\[0\]\.load: .*bad\.png: the image is corrupt or truncated/);
  assert.equal(failed[0].report, join(dir, 'out', 'bad.error.json'));
  const report = JSON.parse(await readFile(failed[0].report!, 'utf8'));
  assert.equal(report.errors[0].step, 'steps[0].load');
  assert.deepEqual(ofType(events, 'file-done').map((e) => e.id), ['good']);
  assert.equal(ofType(events, 'stats')[0].failed, 1);
});

test("on-error: stop ends the run at the first failure", async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'a.png'), 'broken');
  await writePng(join(dir, 'in', 'b.png'), 1);
  await assert.rejects(
    collect(runPipeline({ version: 1, name: 'x', source: { files: 'in' }, steps: steps('out'), 'on-error': 'stop', concurrency: 1 }, { baseDir: dir })),
    /a\.png: not a readable image/,
  );
  assert.deepEqual(await readdir(join(dir, 'out')), ['a.error.json']);
});

test('pairs are matched by base name and the unmatched are reported', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'labels'));
  await writePng(join(dir, 'images', '01.png'), 1);
  await writePng(join(dir, 'images', '02.png'), 2);
  await writePng(join(dir, 'labels', '01.png'), 3);
  await writePng(join(dir, 'labels', '03.png'), 4);
  const events = await collect(
    runPipeline({ version: 1, name: 'p', source: { pairs: { images: 'images', labels: 'labels' } }, steps: [{ load: {} }, { save: { dir: 'out', outputs: ['label'] } }] }, { baseDir: dir }),
  );
  assert.deepEqual(ofType(events, 'file-done').map((e) => e.id), ['01']);
  const warnings = ofType(events, 'log').map((e) => e.message);
  assert.ok(warnings.some((m) => /02\.png: no label with the same name/.test(m)));
  assert.ok(warnings.some((m) => /03\.png: no image with the same name/.test(m)));
  assert.deepEqual(pixels(await readImage(join(dir, 'out', '01.label.png'))), pixels(await readImage(join(dir, 'labels', '01.png'))));
});

test('custom operators: from code with a registry, and from a module named by use:', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'a.png'), 1);
  // From code: an operator that inverts 8-bit images.
  const registry = defaultRegistry.clone().register(
    defineOperator('invert', t.type({}), () =>
      map((s: any) => ({ ...s, image: { ...s.image, data: s.image.data.map((v: number) => 255 - v) } })),
    ),
  );
  await collect(runPipeline({ version: 1, name: 'c', source: { files: 'in' }, steps: [{ load: {} }, { invert: {} }, { save: { dir: 'out', outputs: ['image'] } }] }, { baseDir: dir, registry }));
  const original = pixels(await readImage(join(dir, 'in', 'a.png')));
  assert.deepEqual(pixels(await readImage(join(dir, 'out', 'a.image.png'))), original.map((v) => 255 - v));
  // From a module: use: resolves against the pipeline file's folder. The module imports
  // io-ts like a user's module would, so it must live where node_modules can be found.
  const local = await mkdtemp(join(process.cwd(), 'test', '.tmp-'));
  after(() => rm(local, { recursive: true, force: true }));
  await writeFile(
    join(local, 'offset.mjs'),
    `import * as t from 'io-ts';
     import { map } from 'rxjs';
     export default { name: 'offset', params: t.type({ by: t.number }), create: (p) => map((s) => ({ ...s, image: { ...s.image, data: s.image.data.map((v) => Math.min(255, v + p.by)) } })) };`,
  );
  await writeFile(join(local, 'p.yaml'), `version: 1\nname: m\nuse: ./offset.mjs\nsource: { files: ${join(dir, 'in')} }\nsteps:\n  - load: {}\n  - offset: { by: 1 }\n  - save: { dir: ${join(dir, 'out2')}, outputs: [image] }\n`);
  await collect(runPipeline(join(local, 'p.yaml')));
  assert.deepEqual(pixels(await readImage(join(dir, 'out2', 'a.image.png'))), original.map((v) => Math.min(255, v + 1)));
  await writeFile(join(dir, 'q.yaml'), 'version: 1\nname: m\nuse: ./missing.mjs\nsource: { files: in }\nsteps:\n  - load: {}\n');
  await assert.rejects(collect(runPipeline(join(dir, 'q.yaml'))), /q\.yaml:3:1 use: cannot use \.\/missing\.mjs/);
});

test('registerOperator makes an operator known to every run using the default registry', async () => {
  registerOperator('tag-test', t.type({ tag: t.string }), (p: { tag: string }) => map((s: any) => ({ ...s, metadata: { ...s.metadata, tag: p.tag } })));
  assert.ok(defaultRegistry.names().includes('tag-test'));
  assert.ok(!new OperatorRegistry().names().includes('tag-test'));
});

test('stream-scoped operators see the samples of all files together', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  for (let i = 0; i < 3; i++) await writePng(join(dir, 'in', `${i}.png`), i);
  const seen: string[][] = [];
  const registry = defaultRegistry.clone().register(
    defineOperator('gather', t.type({}), () => (source) => source.pipe(toArray(), mergeMap((all: any[]) => (seen.push(all.map((s) => s.id).sort()), from(all)))), { scope: 'stream' }),
  );
  await collect(runPipeline({ version: 1, name: 's', source: { files: 'in' }, steps: [{ load: {} }, { gather: {} }] }, { baseDir: dir, registry }));
  assert.deepEqual(seen, [['0', '1', '2']]);
});

test('aborting a batch run stops taking files: those not started are neither processed nor reported', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  for (let i = 0; i < 6; i++) await writePng(join(dir, 'in', `${i}.png`), i);
  const stop = new AbortController();
  const events = await collect(
    runPipeline({ version: 1, name: 'a', source: { files: 'in' }, steps: steps('out'), concurrency: 1 }, { baseDir: dir, signal: stop.signal }).pipe(
      map((e) => {
        if (e.type === 'file-done' && e.id === '1') stop.abort();
        return e;
      }),
    ),
  );
  const done = ofType(events, 'file-done').map((e) => e.id);
  assert.ok(done.length >= 2 && done.length < 6, `done ${done}`);
  assert.deepEqual(ofType(events, 'file-failed'), []);
  assert.deepEqual(ofType(events, 'stats').map((e) => [e.done, e.failed, e.skipped]), [[done.length, 0, 0]]);
  assert.deepEqual((await readdir(join(dir, 'out'))).sort(), done.map((id) => `${id}.image.png`).sort());
});

test('aborting a watch run stops taking files, and the next run processes exactly the files left', { timeout: 60000 }, async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  const names = ['0', '1', '2', '3', '4', '5'];
  for (const [i, name] of names.entries()) await writePng(join(dir, 'in', `${name}.png`), i);
  const definition = { version: 1, name: 'a', source: { watch: { dir: 'in', stableMs: 100 } }, steps: steps('out'), concurrency: 1 };
  /**
   * Runs until `enough` files are done, then stops after `settleMs` (time for a wrong extra file
   * to show up), or at a deadline, so that a run doing too little still ends.
   */
  const runUntil = async (enough: number, settleMs: number) => {
    const stop = new AbortController();
    let done = 0;
    const deadline = setTimeout(() => stop.abort(), 20000);
    const events = await collect(
      runPipeline(definition, { baseDir: dir, signal: stop.signal }).pipe(
        tap((e) => {
          if (e.type === 'file-done' && ++done === enough) setTimeout(() => stop.abort(), settleMs);
        }),
      ),
    );
    clearTimeout(deadline);
    assert.deepEqual(ofType(events, 'file-failed'), []);
    return ofType(events, 'file-done').map((e) => e.id);
  };
  const first = await runUntil(2, 0);
  assert.ok(first.length >= 2 && first.length < 6, `done in the first run: ${first}`);
  const left = names.filter((n) => !first.includes(n));
  const second = await runUntil(left.length, 600);
  assert.deepEqual(second.sort(), left, 'the next run takes the files left, and only those');
  assert.deepEqual((await readdir(join(dir, 'out'))).filter((f) => !f.startsWith('.')).sort(), names.map((n) => `${n}.image.png`));
});

test('a missing source folder is a pipeline error found before the run starts, and the last event says why', async () => {
  const dir = await tempDir();
  const events: RunEvent[] = [];
  await assert.rejects(
    collect(runPipeline({ version: 1, name: 'x', source: { files: 'nowhere' }, steps: steps('out') }, { baseDir: dir }).pipe(tap((e) => events.push(e)))),
    (e: unknown) => e instanceof PipelineError && /source\.files: .*nowhere: folder not found/.test(e.message),
  );
  assert.deepEqual(events.map((e) => e.type), ['run-failed']);
  assert.equal((events[0] as { exitCode: number }).exitCode, 2);
});

test('epochs pass over the source again, each sample knowing its epoch', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  for (let i = 0; i < 2; i++) await writePng(join(dir, 'in', `${i}.png`), i);
  const seen: string[] = [];
  const registry = defaultRegistry.clone().register(
    defineOperator('note', t.type({}), () => map((s: any) => (seen.push(`${s.id}@${s.source.epoch}`), s)), { scope: 'stream' }),
  );
  const events = await collect(runPipeline({ version: 1, name: 'e', epochs: 3, concurrency: 1, source: { files: 'in' }, steps: [{ load: {} }, { note: {} }] }, { baseDir: dir, registry }));
  assert.deepEqual(seen.sort(), ['0@0', '0@1', '0@2', '1@0', '1@1', '1@2']);
  assert.equal(ofType(events, 'started')[0].total, 6);
  await assert.rejects(
    collect(runPipeline({ version: 1, name: 'w', epochs: 2, source: { watch: 'in' }, steps: [{ load: {} }, { save: { dir: 'out', outputs: ['image'] } }] }, { baseDir: dir })),
    /epochs: epochs applies to files and pairs sources, not to watch/,
  );
});

test('a multi-page TIFF is one file with one output set per page', async () => {
  const dir = await tempDir();
  const stack = join(process.cwd(), '../shared/data/dsb2018-nuclei/synthetic-stack.tif');
  const events = await collect(runPipeline({ version: 1, name: 'pages', source: { files: stack }, steps: [{ load: { pages: [0, 1, 30] } }, { save: { dir: 'out', outputs: ['image'] } }] }, { baseDir: dir }));
  const [done] = ofType(events, 'file-done');
  assert.deepEqual(Object.keys(done.outputs).sort(), ['synthetic-stack.p0.image', 'synthetic-stack.p1.image', 'synthetic-stack.p30.image']);
  assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['synthetic-stack.p0.image.png', 'synthetic-stack.p1.image.png', 'synthetic-stack.p30.image.png']);
});

test('metrics from an evaluate step are reported per file and averaged in the stats', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'labels'));
  for (const name of ['a', 'b']) {
    await writePng(join(dir, 'images', `${name}.png`), 1);
    await writePng(join(dir, 'labels', `${name}.png`), name === 'a' ? 2 : 3);
  }
  // A "prediction" that is the label itself for a, and its inverse for b.
  const registry = defaultRegistry.clone().register(
    defineOperator('predict-label', t.type({}), () =>
      map((s: any) => ({ ...s, mask: { ...s.label, data: s.label.data.map((v: number) => ((v > 0) === (s.id === 'a') ? 1 : 0)) } })),
    ),
  );
  const events = await collect(
    runPipeline({ version: 1, name: 'ev', source: { pairs: { images: 'images', labels: 'labels' } }, steps: [{ load: {} }, { 'predict-label': {} }, { evaluate: {} }] }, { baseDir: dir, registry }),
  );
  const [a, b] = ofType(events, 'file-done').sort((x, y) => x.id.localeCompare(y.id));
  assert.equal(a.metrics!.pixelError, 0);
  assert.equal(b.metrics!.pixelError, 1);
  assert.equal(ofType(events, 'stats')[0].metrics!.pixelError, 0.5);
});

test('files wait for a slow stream-scoped step instead of piling up ahead of it', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  for (let i = 0; i < 12; i++) await writePng(join(dir, 'in', `${String(i).padStart(2, '0')}.png`), i, 8);
  let read = 0;
  let passed = 0;
  let mostAhead = 0;
  const registry = defaultRegistry.clone().register(
    defineOperator(
      'slow',
      t.type({}),
      () => (source) =>
        source.pipe(
          concatMap((s: any) => of(s).pipe(delay(15))),
          tap(() => passed++),
        ),
      { scope: 'stream', window: () => 2 },
    ),
  );
  await collect(
    runPipeline({ version: 1, name: 'bp', concurrency: 2, source: { files: 'in' }, steps: [{ load: {} }, { slow: {} }] }, { baseDir: dir, registry }).pipe(
      tap((e) => {
        if (e.type === 'file-done') mostAhead = Math.max(mostAhead, ++read - passed);
      }),
    ),
  );
  assert.equal(passed, 12);
  // At most the window (2) plus the files already in flight (concurrency 2) are read ahead.
  assert.ok(mostAhead <= 4, `read ${mostAhead} files ahead of the slow step`);
});

test('a sample dropped by a stream-scoped step is reported as it happens and counted', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  for (let i = 0; i < 3; i++) await writePng(join(dir, 'in', `${i}.png`), i, 8);
  const registry = defaultRegistry.clone().register(
    defineOperator(
      'reject-one',
      t.type({}),
      (_p, ctx) => (source) =>
        source.pipe(
          mergeMap((s: any) => {
            if (s.id !== '1') return of(s);
            ctx.onSampleError?.(new SampleError({ step: ctx.step, file: s.source.path, sample: s.id }, 'not wanted'));
            return [];
          }),
        ),
      { scope: 'stream', window: () => 4 },
    ),
  );
  const events = await collect(runPipeline({ version: 1, name: 'r', concurrency: 1, source: { files: 'in' }, steps: [{ load: {} }, { 'reject-one': {} }] }, { baseDir: dir, registry }));
  const failedAt = events.findIndex((e) => e.type === 'file-failed');
  const lastDone = events.map((e) => e.type).lastIndexOf('file-done');
  assert.ok(failedAt >= 0 && failedAt < lastDone, 'reported before the run ends');
  assert.match((events[failedAt] as { message: string }).message, /steps\[1\]\.reject-one: .*1\.png: not wanted/);
  assert.equal(ofType(events, 'stats')[0].failed, 1);
});
