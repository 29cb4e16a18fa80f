import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, MAX_CAUSES, SampleError, causes, exitCodeOf, isPipelineFault } from '../src/errors.js';
import { isTransient } from '../src/queue/worker.js';
import { tempDir, writePng } from './helpers/files.js';

/** An Error wrapping `depth` more Errors, the innermost being `inner`. */
function wrapped(inner: unknown, depth: number): unknown {
  let e = inner;
  for (let i = 0; i < depth; i++) e = new Error(`wrap ${i}`, { cause: e });
  return e;
}

test('causes gives the error and what it wraps, outermost first, ending at a value that is not an Error', () => {
  const inner = { code: 'EIO', cause: new Error('never reached') };
  const middle = new Error('middle', { cause: inner });
  const outer = new Error('outer', { cause: middle });
  assert.deepEqual([...causes(outer)], [outer, middle, inner]);
  assert.deepEqual([...causes('a string')], ['a string']);
  assert.deepEqual([...causes(undefined)], []);
});

test('causes ends a chain that loops back on itself after MAX_CAUSES links', () => {
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  a.cause = b;
  assert.equal([...causes(a)].length, MAX_CAUSES);
  assert.equal(MAX_CAUSES, 8);
});

test('the pipeline fault, the exit code and the transient failure are looked for to the same depth', () => {
  const marked = (e: Error) => Object.assign(e, { exitCode: 3, code: 'EIO' });
  for (const [depth, found] of [[MAX_CAUSES - 1, true], [MAX_CAUSES, false]] as const) {
    assert.equal(isPipelineFault(wrapped(new ConfigError('no model'), depth)), found, `ConfigError ${depth} deep`);
    assert.equal(exitCodeOf(wrapped(marked(new Error('held')), depth)), found ? 3 : 1, `exitCode ${depth} deep`);
    assert.equal(isTransient(wrapped(marked(new Error('io')), depth)), found, `EIO ${depth} deep`);
  }
});

test('a sample error report carries the causes\' stacks, as many as are looked at', () => {
  const report = new SampleError({ step: 'load', file: 'a.png' }, 'failed', { cause: wrapped(new Error('root'), MAX_CAUSES + 2) }).toJSON();
  assert.equal(String(report.detail).split('--- caused by ---').length, MAX_CAUSES);
});

test('a file whose error loops back through its causes fails alone through the binary: the run ends, exit 1', { timeout: 120_000 }, async () => {
  const dir = await tempDir('unetflow-causes-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'a.png'), 1);
  const rxjs = import.meta.resolve('rxjs');
  await writeFile(
    join(dir, 'looping.mjs'),
    `import { map } from ${JSON.stringify(rxjs)};\n` +
      `export default { name: 'looping', params: { decode: (u) => ({ _tag: 'Right', right: u }) },\n` +
      `  create: () => (source) => source.pipe(map(() => { const a = new Error('the outer failure'); a.cause = new Error('the inner failure', { cause: a }); throw a; })) };\n`,
  );
  await writeFile(join(dir, 'p.yaml'), 'version: 1\nname: loop\nuse: ./looping.mjs\nsource: { files: in }\nsteps:\n  - load: {}\n  - looping: {}\n  - save: { dir: out, outputs: [image] }\n');
  const r = spawnSync(process.execPath, [resolve('bin/unetflow.js'), 'run', join(dir, 'p.yaml')], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  assert.equal(r.status, 1, `the run ended with ${r.status ?? r.signal}: ${r.stderr}`);
  assert.match(r.stderr, /a\.png: the outer failure/);
  const report = JSON.parse(await readFile(join(dir, 'out', 'a.error.json'), 'utf8')) as { errors: { detail?: string }[] };
  assert.equal(report.errors[0].detail?.split('--- caused by ---').length, MAX_CAUSES);
});
