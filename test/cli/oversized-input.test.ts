/**
 * Inputs that would take the run down. A decompression bomb (a 1.2 MB TIFF whose
 * header claims 100000 x 100000 pixels) is refused before decoding, with the file, the
 * step and the size, and recorded failed; an input on which the run dies anyway (here
 * a step that kills its own process, as the kernel's OOM killer would) is recorded
 * failed after two such deaths instead of being taken at every restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { writeTiffBomb } from '../helpers/bomb.js';
import { tempDir, writePng } from '../helpers/files.js';
import { killWatchRuns, startWatchRun } from '../helpers/watch-cli.js';

const BIN = resolve('bin/unetflow.js');
const steps = 'steps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n';

const ledgerEntries = async (dir: string) =>
  (await readFile(join(dir, 'out', '.unetflow-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; status: string; error?: string });

test('an image larger than the limit is refused before decoding, naming the file, the step and the size; the limit can be set', { timeout: 60000 }, async () => {
  const dir = await tempDir('unetflow-cli-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'big.png'), 1, 1024);
  await writePng(join(dir, 'in', 'small.png'), 1);
  await writeFile(join(dir, 'f.yaml'), `version: 1\nname: f\nsource: { files: in }\n${steps}`);
  const r = spawnSync(process.execPath, [BIN, 'run', join(dir, 'f.yaml')], { encoding: 'utf8', timeout: 50000, env: { ...process.env, UNETFLOW_MAX_IMAGE_BYTES: '1M' } });
  assert.equal(r.status, 1, r.stderr);
  const big = join(dir, 'in', 'big.png');
  assert.match(
    r.stderr,
    new RegExp(`^FAILED  steps\\[0\\]\\.load: ${big}: the image is 1024 x 1024 px, 1 channel: 4\\.0 MiB as float32 samples, more than this run can hold \\(1\\.0 MiB: UNETFLOW_MAX_IMAGE_BYTES=1M\\); refused before decoding`, 'm'),
  );
  assert.ok(existsSync(join(dir, 'out', 'small.image.png')), 'the run goes on');
});

test('a decompression bomb is refused before decoding and recorded failed, and a restart does not take it again', { timeout: 120000 }, async (t) => {
  t.after(killWatchRuns);
  const dir = await tempDir('unetflow-cli-');
  await mkdir(join(dir, 'in'));
  // Its float32 samples would take at least twice the machine's memory, whatever the machine.
  const side = Math.max(100_000, Math.ceil(Math.sqrt(totalmem() / 2) / 256) * 256);
  const bomb = join(dir, 'in', 'bomb.tif');
  await writeTiffBomb(bomb, side);
  await writeFile(join(dir, 'w.yaml'), `version: 1\nname: w\nsource: { watch: { dir: in, stableMs: 100 } }\n${steps}`);

  const run = startWatchRun(join(dir, 'w.yaml'));
  await run.until(/FAILED .*bomb\.tif/);
  assert.match(run.output(), new RegExp(`FAILED  steps\\[0\\]\\.load: ${bomb}: the image is ${side} x ${side} px, 1 channel: [\\d.]+ GiB as float32 samples, more than this run can hold \\([\\d.]+ GiB: a quarter of the machine's [\\d.]+ GiB of memory; UNETFLOW_MAX_IMAGE_BYTES sets it\\); refused before decoding`));
  await writePng(join(dir, 'in', 'after.png'), 2);
  await run.until(/done +\S*after\.png/);
  run.child.kill('SIGTERM');
  await run.exited;
  assert.deepEqual((await ledgerEntries(dir)).map((e) => [e.path, e.status]), [['bomb.tif', 'failed'], ['after.png', 'done']]);
  assert.ok(existsSync(join(dir, 'out', 'bomb.error.json')));

  const again = startWatchRun(join(dir, 'w.yaml'));
  await again.until(/bomb\.tif: skipped, it failed before and is unchanged/);
  again.child.kill('SIGTERM');
  await again.exited;
  assert.doesNotMatch(again.output(), /FAILED/);
});

test('an input on which the run died twice is recorded failed at the next start instead of taken again', { timeout: 120000 }, async (t) => {
  t.after(killWatchRuns);
  const dir = await tempDir('unetflow-cli-');
  await mkdir(join(dir, 'in'));
  const rxjs = import.meta.resolve('rxjs');
  // Dies on k*.png as a run killed for memory does: at once, with nothing written after.
  await writeFile(
    join(dir, 'die.mjs'),
    `import { map } from ${JSON.stringify(rxjs)};\nimport { basename } from 'node:path';\n` +
      `export default { name: 'die', params: { decode: (u) => ({ _tag: 'Right', right: u }) },\n` +
      `  create: () => map((s) => { if (basename(s.source.path).startsWith('k')) process.kill(process.pid, 'SIGKILL'); return s; }) };\n`,
  );
  const pipeline = join(dir, 'w.yaml');
  await writeFile(pipeline, `version: 1\nname: w\nuse: ./die.mjs\nsource: { watch: { dir: in, stableMs: 100 } }\nsteps:\n  - load: {}\n  - die: {}\n  - save: { dir: out, outputs: [image] }\n`);
  await writePng(join(dir, 'in', 'k.png'), 1);
  for (let death = 1; death <= 2; death++) {
    const run = startWatchRun(pipeline);
    assert.equal(await run.exited, 'SIGKILL', `death ${death}:\n${run.output()}`);
  }
  const third = startWatchRun(pipeline);
  await third.until(/FAILED .*k\.png/);
  assert.match(third.output(), new RegExp(`^FAILED  ${join(dir, 'in', 'k.png')}: the run stopped while processing it 2 times \\(killed, out of memory or crashed\\): not taken again until it changes`, 'm'));
  await writePng(join(dir, 'in', 'good.png'), 2);
  await third.until(/done +\S*good\.png/);
  third.child.kill('SIGTERM');
  await third.exited;
  const entries = await ledgerEntries(dir);
  assert.deepEqual(entries.map((e) => [e.path, e.status]), [['k.png', 'failed'], ['good.png', 'done']]);
  assert.ok(!existsSync(join(dir, 'out', '.unetflow-ledger.jsonl.in-flight')), 'no note left open after a clean stop');
});

test('a run that quits at once on a second SIGTERM closes the notes of the files in flight: no death is counted', { timeout: 120000 }, async (t) => {
  t.after(killWatchRuns);
  const dir = await tempDir('unetflow-cli-');
  await mkdir(join(dir, 'in'));
  const rxjs = import.meta.resolve('rxjs');
  const inFlight = join(dir, 'in-flight');
  await writeFile(
    join(dir, 'slow.mjs'),
    `import { concatMap } from ${JSON.stringify(rxjs)};\nimport { writeFileSync } from 'node:fs';\n` +
      `export default { name: 'slow', params: { decode: (u) => ({ _tag: 'Right', right: u }) },\n` +
      `  create: () => (source) => source.pipe(concatMap(async (s) => { writeFileSync(${JSON.stringify(inFlight)}, ''); await new Promise((r) => setTimeout(r, 60000)); return s; })) };\n`,
  );
  await writeFile(join(dir, 'w.yaml'), `version: 1\nname: w\nuse: ./slow.mjs\nsource: { watch: { dir: in, stableMs: 100 } }\nsteps:\n  - load: {}\n  - slow: {}\n  - save: { dir: out, outputs: [image] }\n`);
  await writePng(join(dir, 'in', 's.png'), 1);
  const run = startWatchRun(join(dir, 'w.yaml'));
  await run.until(/watching /);
  while (!existsSync(inFlight)) await new Promise((r) => setTimeout(r, 50));
  run.child.kill('SIGTERM');
  await run.until(/SIGTERM: finishing/);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 143);
  const notes = (await readFile(join(dir, 'out', '.unetflow-ledger.jsonl.in-flight'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; status: string; crashes: number });
  assert.deepEqual(notes.map((n) => [n.path, n.status, n.crashes]), [['s.png', 'started', 0], ['s.png', 'stopped', 0]]);
});

test('a file that was in flight beside the one the run died on is not blamed with it: suspects are taken again alone', { timeout: 180000 }, async (t) => {
  t.after(killWatchRuns);
  const dir = await tempDir('unetflow-cli-');
  await mkdir(join(dir, 'in'));
  const rxjs = import.meta.resolve('rxjs');
  const beside = join(dir, 'g-in-flight');
  // k*.png kills the run once g*.png is in flight beside it (or after 5 s alone); g*.png takes 3 s.
  await writeFile(
    join(dir, 'die.mjs'),
    `import { concatMap } from ${JSON.stringify(rxjs)};\nimport { existsSync, writeFileSync } from 'node:fs';\nimport { basename } from 'node:path';\n` +
      `const pause = (ms) => new Promise((r) => setTimeout(r, ms));\n` +
      `export default { name: 'die', params: { decode: (u) => ({ _tag: 'Right', right: u }) },\n` +
      `  create: () => (source) => source.pipe(concatMap(async (s) => {\n` +
      `    const name = basename(s.source.path);\n` +
      `    if (name.startsWith('g')) { writeFileSync(${JSON.stringify(beside)}, ''); await pause(3000); }\n` +
      `    if (name.startsWith('k')) { for (let i = 0; i < 250 && !existsSync(${JSON.stringify(beside)}); i++) await pause(20); process.kill(process.pid, 'SIGKILL'); }\n` +
      `    return s; })) };\n`,
  );
  const pipeline = join(dir, 'w.yaml');
  await writeFile(pipeline, `version: 1\nname: w\nuse: ./die.mjs\nconcurrency: 2\nsource: { watch: { dir: in, stableMs: 100 } }\nsteps:\n  - load: {}\n  - die: {}\n  - save: { dir: out, outputs: [image] }\n`);
  await writePng(join(dir, 'in', 'g.png'), 1);
  await writePng(join(dir, 'in', 'k.png'), 2);
  for (let death = 1; death <= 2; death++) {
    await rm(beside, { force: true });
    const run = startWatchRun(pipeline);
    assert.equal(await run.exited, 'SIGKILL', `death ${death}:\n${run.output()}`);
  }
  const third = startWatchRun(pipeline);
  await third.until(/FAILED .*k\.png: the run stopped while processing it 2 times/);
  await writePng(join(dir, 'in', 'later.png'), 3);
  await third.until(/done +\S*later\.png/);
  third.child.kill('SIGTERM');
  await third.exited;
  const latest = new Map((await ledgerEntries(dir)).map((e) => [e.path, e.status]));
  assert.equal(latest.get('g.png'), 'done', 'g.png was only beside k.png when the run died');
  assert.equal(latest.get('k.png'), 'failed');
});
