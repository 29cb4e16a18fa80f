import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tempDir, writePng } from '../helpers/files.js';

const BIN = resolve('bin/unetflow.js');
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

async function project() {
  const dir = await tempDir('unetflow-cli-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'a.png'), 1);
  await writeFile(join(dir, 'in', 'b.png'), 'corrupt');
  await writeFile(
    join(dir, 'p.yaml'),
    'version: 1\nname: cli\nsource: { files: in }\nsteps:\n  - load: {}\n  - mirror: { margin: 2 }\n  - save: { dir: "${OUT}", outputs: [image] }\n',
  );
  return dir;
}

test('validate says valid with exit 0, or lists the problems with exit 2', async () => {
  const dir = await project();
  const ok = cli(['validate', join(dir, 'p.yaml')], { OUT: 'out' });
  assert.equal(ok.status, 0);
  assert.match(ok.stdout, /valid \(load -> mirror -> save\)/);
  const bad = cli(['validate', join(dir, 'p.yaml'), '--set', 'steps.1.mirror.margin=x']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /p\.yaml:7:\d+ steps\[2\]\.save\.dir: environment variable OUT is not set/);
  assert.match(bad.stderr, /steps\[1\]\.mirror\.margin: expected a non-negative integer, got "x"/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});

test('run --json prints one JSON event per line and exits 1 when a file failed', async () => {
  const dir = await project();
  const run = cli(['run', join(dir, 'p.yaml'), '--json'], { OUT: 'out' });
  assert.equal(run.status, 1, run.stderr);
  const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events[0].type, 'started');
  assert.equal(events.at(-1).type, 'stats');
  assert.equal(events.filter((e) => e.type === 'file-done').length, 1);
  assert.equal(events.filter((e) => e.type === 'file-failed').length, 1);
  assert.deepEqual(await readdir(join(dir, 'out')), ['a.image.png', 'b.error.json']);
});

test('run prints a line per file and a summary when not on a terminal', async () => {
  const dir = await project();
  const run = cli(['run', join(dir, 'p.yaml'), '--set', 'source.files=in/a.png'], { OUT: 'out' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /done +.*a\.png/);
  assert.match(run.stdout, /1 done, 0 failed/);
});

test('an unknown command is a usage error with exit 2', () => {
  const r = cli(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});

test('SIGINT in watch mode finishes cleanly with exit 0', { timeout: 30000 }, async () => {
  const dir = await tempDir('unetflow-cli-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'a.png'), 1);
  await writeFile(join(dir, 'w.yaml'), 'version: 1\nname: w\nsource: { watch: { dir: in, stableMs: 100 } }\nsteps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n');
  const child = spawn(process.execPath, [BIN, 'run', join(dir, 'w.yaml'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!out.includes('"file-done"')) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0);
  assert.match(out, /"type":"stats","done":1/);
  assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['.unetflow-ledger.jsonl', 'a.image.png']);
});
