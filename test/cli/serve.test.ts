/** The live page's command line: `run --serve` leaves the run's exit codes alone; `serve --ledger`; the options' checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { tempDir, writePng } from '../helpers/files.js';
import { startLiveCli } from '../helpers/live-cli.js';

const BIN = resolve('bin/unetflow.js');
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

async function project() {
  const dir = await tempDir('unetflow-serve-cli-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'good.png'), 1);
  await writeFile(join(dir, 'in', 'bad.png'), 'not an image');
  const steps = 'steps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n';
  await writeFile(join(dir, 'batch.yaml'), `version: 1\nname: b\nsource: { files: in }\n${steps}`);
  await writeFile(join(dir, 'watch.yaml'), `version: 1\nname: w\nsource: { watch: { dir: in, stableMs: 100 } }\n${steps}`);
  return dir;
}

test('run --serve on a files source ends when the run ends, with the exit code it has without --serve', async () => {
  const dir = await project();
  const plain = cli(['run', join(dir, 'batch.yaml')]);
  const served = cli(['run', join(dir, 'batch.yaml'), '--serve', '0']);
  assert.equal(plain.status, 1, plain.stderr);
  assert.equal(served.status, plain.status, served.stderr);
  assert.match(served.stderr, /^live page: http:\/\/127\.0\.0\.1:\d+\/$/m);
});

test('a port that is taken is a command-line problem: exit 2 before the run takes a file', async (t) => {
  const dir = await project();
  const blocker = createServer();
  await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const r = cli(['run', join(dir, 'batch.yaml'), '--serve', String(port)]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`live page: cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is in use on 127\\.0\\.0\\.1: give another with --serve PORT`));
  assert.ok(!existsSync(join(dir, 'out')), 'no file was taken');
});

test('--host, --token and --keep-serving without --serve, or a port that is no port, are refused with exit 2', async () => {
  const dir = await project();
  for (const args of [['--host', '127.0.0.1'], ['--token', 'x'], ['--keep-serving']]) {
    const r = cli(['run', join(dir, 'batch.yaml'), ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /are options of the live page: add --serve \[PORT\]/);
  }
  const r = cli(['run', join(dir, 'batch.yaml'), '--serve', '70000']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /expected a port number \(0 for any free port\), got '70000'/);
});

test('a token is never printed in full, and the page refuses requests without it', async (t) => {
  const dir = await project();
  const token = 'correct-horse-battery-staple';
  const run = startLiveCli(['run', join(dir, 'watch.yaml'), '--serve', '0', '--token', token]);
  t.after(() => run.child.kill('SIGKILL'));
  const url = await run.url;
  assert.match(run.stderr(), /token required: add \?token=<the token> once; token co… \(28 characters\)/);
  assert.equal((await fetch(url)).status, 401);
  assert.equal((await fetch(`${url}api/files`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  run.child.kill('SIGINT');
  // A watch run stopped by a signal exits 0 whatever its files did (README, exit codes), so this does not depend on how far it got.
  assert.equal(await run.exit, 0);
  assert.ok(!run.stderr().includes(token), run.stderr());
});

test('serve --ledger shows a watch run\'s output folder from its ledger: rows with their seconds, failures with their report', async (t) => {
  const dir = await project();
  const r = spawn(process.execPath, [BIN, 'run', join(dir, 'watch.yaml')], { stdio: 'ignore' });
  // The watch run has recorded both files once the ledger holds two lines; then it is stopped.
  const ledger = join(dir, 'out', '.unetflow-ledger.jsonl');
  while (((await readFile(ledger, 'utf8').catch(() => '')).match(/\n/g) ?? []).length < 2) await new Promise((ok) => setTimeout(ok, 100));
  r.kill('SIGINT');
  await new Promise((ok) => r.once('exit', ok));

  const missing = cli(['serve', '--ledger', join(dir, 'in')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no \.unetflow-ledger\.jsonl in this folder/);

  const serve = startLiveCli(['serve', '--ledger', join(dir, 'out'), '--port', '0']);
  t.after(() => serve.child.kill('SIGKILL'));
  const url = await serve.url;
  type Page = { total: number; rows: { file: string; status: string; seconds?: number; links: Record<string, string>; reportLink?: string }[] };
  let page: Page;
  do page = (await (await fetch(`${url}api/files`)).json()) as Page;
  while (page.total < 2);
  const byFile = Object.fromEntries(page.rows.map((row) => [row.file, row]));
  assert.equal(byFile['good.png'].status, 'done');
  assert.equal(typeof byFile['good.png'].seconds, 'number');
  assert.deepEqual(byFile['good.png'].links, { image: '0/good.image.png' });
  assert.equal(byFile['bad.png'].status, 'failed');
  const report = (await (await fetch(`${url}files/${byFile['bad.png'].reportLink}`)).json()) as { errors: { message: string }[] };
  assert.match(report.errors[0].message, /bad\.png: not a readable image/);
  serve.child.kill('SIGINT');
  assert.equal(await serve.exit, 0);
});
