/** Every row of the README's exit-code table, through the real binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tempDir, writePng } from '../helpers/files.js';
import { sleep } from '../helpers/wait.js';
import { Tmpfs, tmpfsSkip } from '../helpers/tmpfs.js';

const BIN = resolve('bin/unetflow.js');
const cli = (args: string[], cwd?: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', ...(cwd ? { cwd } : {}) });

/** A folder with in/ (good.png, and bad.png when asked) and pipeline files. */
async function project({ bad = false } = {}) {
  const dir = await tempDir('unetflow-exit-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'good.png'), 1);
  if (bad) await writeFile(join(dir, 'in', 'bad.png'), 'not an image');
  const steps = 'steps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n';
  await writeFile(join(dir, 'batch.yaml'), `version: 1\nname: b\nsource: { files: in }\n${steps}`);
  await writeFile(join(dir, 'stop.yaml'), `version: 1\nname: s\non-error: stop\nconcurrency: 1\nsource: { files: in }\n${steps}`);
  await writeFile(join(dir, 'watch.yaml'), `version: 1\nname: w\nsource: { watch: { dir: in, stableMs: 100 } }\n${steps}`);
  // A step that takes 60 s, so that a file is in flight when the signals come.
  const rxjs = import.meta.resolve('rxjs');
  await writeFile(
    join(dir, 'slow.mjs'),
    `import { concatMap } from ${JSON.stringify(rxjs)};\nimport { writeFileSync } from 'node:fs';\n` +
      `export default { name: 'slow', params: { decode: (u) => ({ _tag: 'Right', right: u }) },\n` +
      `  create: () => (source) => source.pipe(concatMap(async (s) => { writeFileSync(${JSON.stringify(join(dir, 'in-flight'))}, ''); await new Promise((r) => setTimeout(r, 60000)); return s; })) };\n`,
  );
  await writeFile(join(dir, 'slow.yaml'), `version: 1\nname: slow\nuse: ./slow.mjs\nsource: { files: in }\nsteps:\n  - load: {}\n  - slow: {}\n  - save: { dir: out, outputs: [image] }\n`);
  return dir;
}

test('exit 0: every file done', async () => {
  const dir = await project();
  assert.equal(cli(['run', join(dir, 'batch.yaml')]).status, 0);
});

test('exit 1: some input failed and the others were done', async () => {
  const dir = await project({ bad: true });
  const r = cli(['run', join(dir, 'batch.yaml')]);
  assert.equal(r.status, 1, r.stderr);
  assert.ok(existsSync(join(dir, 'out', 'good.image.png')));
});

test('exit 1: on-error: stop ended the run at a failure', async () => {
  const dir = await project({ bad: true });
  const r = cli(['run', join(dir, 'stop.yaml')]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /bad\.png: not a readable image/);
  assert.ok(!existsSync(join(dir, 'out', 'good.image.png')), 'bad.png comes first and stops the run');
});

test('exit 2: the pipeline file is wrong (validate and run alike), and nothing is taken', async () => {
  const dir = await project();
  await writeFile(join(dir, 'typo.yaml'), 'version: 1\nname: t\nsed: 1\nsource: { files: in }\nsteps:\n  - load: {}\n');
  for (const command of ['validate', 'run']) {
    const r = cli([command, join(dir, 'typo.yaml')]);
    assert.equal(r.status, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /typo\.yaml:3:1 sed: unknown key 'sed' — did you mean 'seed'\?/);
  }
});

test('exit 2: the source folder the pipeline names is missing (validate and run alike)', async () => {
  const dir = await project();
  for (const command of ['validate', 'run']) {
    const r = cli([command, join(dir, 'batch.yaml'), '--set', 'source.files=missing']);
    assert.equal(r.status, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /source\.files: .*missing: folder not found/);
  }
  assert.ok(!existsSync(join(dir, 'out')), 'nothing was written');
});

test('exit 2: the command line is wrong (an unknown command, a folder for a pipeline file, a bad option value)', async () => {
  const dir = await project();
  const unknown = cli(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const folder = cli(['run', dir]);
  assert.equal(folder.status, 2);
  assert.match(folder.stderr, /not a pipeline file: it is a folder/);
  const backend = cli(['run', join(dir, 'batch.yaml'), '--backend', 'quantum']);
  assert.equal(backend.status, 2);
  assert.match(backend.stderr, /argument 'quantum' is invalid/);
});

test('exit 3: another run holds the output folder', { timeout: 30000 }, async () => {
  const dir = await project();
  await mkdir(join(dir, 'out'));
  const holder = spawn(process.execPath, ['--import', 'tsx', resolve('test/helpers/hold-lock.ts'), join(dir, 'out', '.unetflow.lock')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let said = '';
    holder.stdout.on('data', (d) => (said += d));
    while (!said.includes('held')) await sleep(50);
    const r = cli(['run', join(dir, 'batch.yaml')]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`in use by another unetflow run \\(pid ${holder.pid} `));
    assert.ok(!existsSync(join(dir, 'out', 'good.image.png')));
  } finally {
    holder.kill('SIGKILL');
  }
});

test('exit 0 after a first SIGTERM of a watch run: the files in flight finish', { timeout: 30000 }, async () => {
  const dir = await project();
  const child = spawn(process.execPath, [BIN, 'run', join(dir, 'watch.yaml'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!/"file-done"/.test(out)) await sleep(50);
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0);
  assert.match(out, /"type":"stats"/);
});

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`exit 0 after a first ${signal} of a watch run in which a file failed: the run was healthy, the failure is in the ledger, the locks are released`, { timeout: 30000 }, async () => {
    const dir = await project({ bad: true });
    const child = spawn(process.execPath, [BIN, 'run', join(dir, 'watch.yaml'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    while (!/"file-done"[\s\S]*"file-failed"|"file-failed"[\s\S]*"file-done"/.test(out)) await sleep(50);
    child.kill(signal);
    const code = await new Promise((r) => child.on('exit', (c, s) => r(c ?? s)));
    assert.equal(code, 0, err);
    assert.match(err, new RegExp(`${signal}: finishing the files in progress`));
    assert.match(out, /"type":"stats","done":1,"failed":1/);
    assert.match(await readFile(join(dir, 'out', '.unetflow-ledger.jsonl'), 'utf8'), /"path":"bad\.png".*"status":"failed"/);
    assert.ok(!existsSync(join(dir, 'out', '.unetflow.lock')), "the output folder's lock is released");
    assert.ok(!existsSync(join(dir, 'out', '.unetflow-ledger.jsonl.lock')), "the ledger's lock is released");
  });
}

test('exit 1: a watch run that stopped on its own (another run took its lock over)', { timeout: 60000 }, async () => {
  const dir = await project();
  const child = spawn(process.execPath, [BIN, 'run', join(dir, 'watch.yaml'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!/"file-done"/.test(out)) await sleep(50);
  // Another holder's lock in its place: the heartbeat (every 10 s) finds it and the run stops taking files.
  await writeFile(join(dir, 'out', '.unetflow.lock'), JSON.stringify({ pid: 4242, host: 'other-pc', since: new Date().toISOString() }) + '\n');
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 1);
  assert.match(out, /lost the lock .*pid 4242 on host other-pc took it over/);
});

test('exit 4: an output folder cannot be written (here a full disk), and no file is blamed', { skip: tmpfsSkip(), timeout: 60000 }, async () => {
  const dir = await project();
  const out = Tmpfs.mount(join(dir, 'out'), '256k');
  try {
    await writePng(join(dir, 'in', 'good.png'), 1, 256);
    await out.fill();
    const r = cli(['run', join(dir, 'batch.yaml')]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /cannot be written: ENOSPC/);
    assert.doesNotMatch(r.stderr, /FAILED/);
  } finally {
    out.unmount();
  }
});

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  test(`exit ${code}: a second ${signal} quits at once, leaving the file in flight unrecorded`, { timeout: 30000 }, async () => {
    const dir = await project();
    const child = spawn(process.execPath, [BIN, 'run', join(dir, 'slow.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    while (!existsSync(join(dir, 'in-flight'))) await sleep(50);
    child.kill(signal);
    // The second signal once the first is heard (it says so), or a busy machine could deliver them as one.
    while (!err.includes(`${signal}: finishing`)) await sleep(50);
    child.kill(signal);
    const exit = await new Promise((r) => child.on('exit', r));
    assert.equal(exit, code);
    assert.ok(!existsSync(join(dir, 'out', 'good.image.png')));
  });
}
