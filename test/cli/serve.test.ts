/** The live page's command line: `run --serve` leaves the run's exit codes alone; `serve --ledger`; the options' checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';
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

/** Waits for `ready` to hold, looking every 100 ms; a busy machine gets a minute before the test fails saying what it waited for. */
async function until<T>(what: string, ready: () => Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + 60_000; Date.now() < end; await pause()) {
    const value = await ready();
    if (value !== undefined) return value;
  }
  throw new Error(`gave up waiting, after a minute, for ${what}`);
}

/** Runs `pipeline` (a watch) until its ledger holds a line per input, then stops it with SIGINT. */
async function recordBoth(pipeline: string, ledger: string): Promise<void> {
  const r = spawn(process.execPath, [BIN, 'run', pipeline], { stdio: 'ignore' });
  const exited = new Promise((ok) => r.once('exit', ok));
  try {
    await until('two lines in the ledger', async () => (((await readFile(ledger, 'utf8').catch(() => '')).match(/\n/g) ?? []).length >= 2 ? true : undefined));
  } finally {
    r.kill('SIGINT');
    await exited;
  }
}

type Page = { total: number; rows: { file: string; status: string; seconds?: number; links: Record<string, string>; reportLink?: string }[] };

/** The first page of the file table once it holds `rows` rows. */
function pageWith(url: string, rows: number, headers: Record<string, string> = {}): Promise<Page> {
  return until(`${rows} rows on the page`, async () => {
    const page = (await (await fetch(`${url}api/files`, { headers })).json()) as Page;
    return page.total >= rows ? page : undefined;
  });
}

const pause = () => new Promise((ok) => setTimeout(ok, 100));

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
  // Stopped once the run has ended both files (bad.png failed: exit 1), not while it may still be at them.
  const page = await pageWith(url, 2, { authorization: `Bearer ${token}` });
  assert.deepEqual(page.rows.map((row) => `${basename(row.file)} ${row.status}`).sort(), ['bad.png failed', 'good.png done']);
  run.child.kill('SIGINT');
  // A watch run stopped by a signal exits 0 whatever its files did (README, exit codes), so this does not depend on how far it got.
  assert.equal(await run.exit, 0, run.stderr());
  assert.ok(!run.stderr().includes(token), run.stderr());
});


test('serve --ledger shows a watch run\'s output folder from its ledger: rows with their seconds, failures with their report', async (t) => {
  const dir = await project();
  // The watch run has recorded both files once the ledger holds two lines; then it is stopped.
  await recordBoth(join(dir, 'watch.yaml'), join(dir, 'out', '.unetflow-ledger.jsonl'));

  const missing = cli(['serve', '--ledger', join(dir, 'in')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no \.unetflow-ledger\.jsonl in this folder/);

  // Files in the output folder that the ledger does not name are not the run's outputs.
  await writeFile(join(dir, 'out', 'notes.txt'), 'private');
  await writeFile(join(dir, 'out', 'p.yaml'), 'version: 1\n');
  await copyFile(join(dir, 'in', 'good.png'), join(dir, 'out', 'other.png'));

  const serve = startLiveCli(['serve', '--ledger', join(dir, 'out'), '--port', '0']);
  t.after(() => serve.child.kill('SIGKILL'));
  const url = await serve.url;
  const page = await pageWith(url, 2);
  const byFile = Object.fromEntries(page.rows.map((row) => [row.file, row]));
  assert.equal(byFile['good.png'].status, 'done');
  assert.equal(typeof byFile['good.png'].seconds, 'number');
  assert.deepEqual(byFile['good.png'].links, { image: '0/good.image.png' });
  assert.equal(byFile['bad.png'].status, 'failed');
  const report = (await (await fetch(`${url}files/${byFile['bad.png'].reportLink}`)).json()) as { errors: { message: string }[] };
  assert.match(report.errors[0].message, /bad\.png: not a readable image/);
  assert.equal((await fetch(`${url}files/0/good.image.png`)).status, 200);
  for (const name of ['notes.txt', 'p.yaml', 'other.png']) {
    assert.equal((await fetch(`${url}files/0/${name}`)).status, 404, name);
    assert.equal((await fetch(`${url}thumbs/0/${name}`)).status, 404, name);
  }
  serve.child.kill('SIGINT');
  assert.equal(await serve.exit, 0);
});

test('serve --ledger FILE with the ledger kept beside the pipeline serves the outputs its entries name, and neither the pipeline, the inputs nor the ledger', async (t) => {
  const dir = await project();
  const steps = 'steps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n';
  await writeFile(join(dir, 'beside.yaml'), `version: 1\nname: w\nsource: { watch: { dir: in, stableMs: 100, ledger: runs.jsonl } }\n${steps}`);
  await recordBoth(join(dir, 'beside.yaml'), join(dir, 'runs.jsonl'));

  const serve = startLiveCli(['serve', '--ledger', join(dir, 'runs.jsonl'), '--port', '0']);
  t.after(() => serve.child.kill('SIGKILL'));
  const url = await serve.url;
  const good = (await pageWith(url, 2)).rows.find((row) => row.file === 'good.png');
  assert.deepEqual(good?.links, { image: '0/out/good.image.png' });
  assert.equal((await fetch(`${url}files/0/out/good.image.png`)).status, 200);
  for (const path of ['beside.yaml', 'watch.yaml', 'runs.jsonl', 'in/good.png', 'in/bad.png']) {
    assert.equal((await fetch(`${url}files/0/${path}`)).status, 404, path);
    assert.equal((await fetch(`${url}thumbs/0/${path}`)).status, 404, path);
  }
  serve.child.kill('SIGINT');
  assert.equal(await serve.exit, 0);
});

test('serve --ledger warns on the page of a ledger line that is JSON but no entry, naming the file and the line, and shows the other lines', async (t) => {
  const dir = await tempDir('unetflow-serve-cli-');
  const ledger = join(dir, '.unetflow-ledger.jsonl');
  const entry = (path: string, status: string) => JSON.stringify({ path, status, outputs: {}, size: 1, mtimeMs: 1, time: '2026-11-30T10:00:00.000Z' }) + '\n';
  await writeFile(ledger, entry('a.png', 'done') + entry('b.png', 'dnoe') + entry('c.png', 'failed'));
  const serve = startLiveCli(['serve', '--ledger', dir, '--port', '0']);
  t.after(() => serve.child.kill('SIGKILL'));
  const url = await serve.url;
  const events = (await fetch(`${url}events`, { signal: AbortSignal.timeout(20_000) })).body!.pipeThrough(new TextDecoderStream()).getReader();
  let said = '';
  while (!said.includes('not a ledger entry')) {
    const { value, done } = await events.read();
    if (done) break;
    said += value;
  }
  assert.ok(said.includes(`${ledger}:2: not a ledger entry: status: expected 'done' | 'failed', got \\"dnoe\\"; the page leaves it out`), said);
  const page = (await (await fetch(`${url}api/files`)).json()) as { rows: { file: string; status: string }[] };
  assert.deepEqual(page.rows.map((r) => [r.file, r.status]).sort(), [['a.png', 'done'], ['c.png', 'failed']]);
  serve.child.kill('SIGINT');
  assert.equal(await serve.exit, 0);
});
