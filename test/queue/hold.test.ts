/**
 * A worker's hold on a job, through the binary: real redis-server, real worker processes.
 * A worker frozen (SIGSTOP) mid-write loses its job to another worker; once resumed
 * (SIGCONT) it must write, remove and record nothing for that job. And one job at a time
 * writes an input's outputs. To stop a worker at the right moment every time, it runs
 * with a small instrument (--import) that announces, then waits for a go-ahead file at,
 * the first opening of its temporary output, or the rename of it into place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { hashFile } from '../../src/pipeline/ledger.js';
import { loadPipeline } from '../../src/pipeline/run.js';
import { jobId, pipelineHash } from '../../src/queue/job-id.js';
import { writePng } from '../helpers/files.js';
import { events, queueProject, startCli, type Cli } from '../helpers/queue-project.js';
import { needsRedis, redisForFile } from '../helpers/redis.js';

const skip = needsRedis();
const db = redisForFile({ skip: skip.skip });

/** The instrument: at UNETFLOW_TEST_PAUSE_AT ('open' or 'rename') of the first `.image.png` output, `<dir>/at.<pid>`, then wait for `<dir>/go.<pid>`. */
const INSTRUMENT = `
import fs, { existsSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
const dir = process.env.UNETFLOW_TEST_PAUSE_DIR;
const at = process.env.UNETFLOW_TEST_PAUSE_AT;
let paused = false;
async function pause(what) {
  paused = true;
  writeFileSync(join(dir, 'at.' + process.pid), what);
  while (!existsSync(join(dir, 'go.' + process.pid))) await new Promise((r) => setTimeout(r, 10));
}
const { open, rename } = fs.promises;
fs.promises.open = async function (path, ...rest) {
  const handle = await open.call(this, path, ...rest);
  if (at === 'open' && !paused && /\\.image\\.png\\.\\d+\\.\\d+\\.tmp$/.test(String(path))) await pause(String(path));
  return handle;
};
fs.promises.rename = async function (from, to) {
  if (at === 'rename' && !paused && String(to).endsWith('.image.png')) await pause(String(from));
  return rename.call(this, from, to);
};
syncBuiltinESMExports();
`;

/** The environment that makes a worker pause at `at` of its first output, announcing it in `dir`. */
async function pausing(dir: string, at: 'open' | 'rename'): Promise<Record<string, string>> {
  const pauses = join(dir, 'pauses');
  await mkdir(pauses, { recursive: true });
  const instrument = join(dir, 'instrument.mjs');
  await writeFile(instrument, INSTRUMENT);
  return {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(instrument).href}`,
    UNETFLOW_TEST_PAUSE_DIR: pauses,
    UNETFLOW_TEST_PAUSE_AT: at,
  };
}

const cli = (args: string[], env: Record<string, string> = {}) => {
  const c = startCli(args, env);
  db.running.push(c);
  return c;
};
const stats = (c: Cli) => events(c).find((e) => e.type === 'stats') as Record<string, unknown> | undefined;
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const [round, at] of (['open', 'rename', 'open', 'rename'] as const).entries()) {
  const where = at === 'open' ? 'its temporary output just created' : 'its complete temporary output about to be renamed into place';
  test(`a worker frozen with ${where} loses the job to another and, resumed, writes, removes and records nothing (round ${round + 1})`, skip, async () => {
    const name = `frozen-${round}`;
    const p = await queueProject({ name, url: db.server.url, files: 1 });
    const pauses = join(p.dir, 'pauses');
    const first = cli(['worker', p.pipeline, '--json', '--concurrency', '1'], await pausing(p.dir, at));
    await first.waitFor(/taking jobs of/);
    const producer = cli(['run', p.pipeline, '--json']);
    await until(() => existsSync(join(pauses, `at.${first.child.pid}`)), `worker ${first.child.pid} to reach the ${at} of its output`);
    first.child.kill('SIGSTOP');

    // Its lock lapses; the second worker's stalled-job check gives the job back, and it takes it.
    const second = cli(['worker', p.pipeline, '--json', '--concurrency', '1']);
    assert.equal(await producer.exit, 0, producer.stderr);
    assert.deepEqual({ ...stats(producer), seconds: 0 }, { type: 'stats', done: 1, failed: 0, skipped: 0, unchangedFailed: 0, seconds: 0 });
    assert.match(String(events(producer).find((e) => e.type === 'file-done')?.worker), new RegExp(`:${second.child.pid}$`));
    assert.match(second.stdout, /removed [^"]*\/out\/\.f000\.image\.png\.\d+\.\d+\.tmp, left by a worker that stopped mid-write/);
    const output = join(p.dir, 'out', 'f000.image.png');
    const good = await readFile(output);
    const entry = await db.redis.hget(`unetflow:${name}:ledger`, 'f000.png');

    await writeFile(join(pauses, `go.${first.child.pid}`), '');
    first.child.kill('SIGCONT');
    // What it does once resumed: leave the job (fixed), or fail the file (the data loss this guards against).
    await first.waitFor(/no longer holds job|"type":"file-(failed|done)"/);
    first.child.kill('SIGTERM');
    assert.equal(await first.exit, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`f000\\.png: this worker no longer holds job [0-9a-f]{64} \\(its lock lapsed: the worker was stopped, starved or cut off from Redis for longer than lockMs, 1000 ms, and the job is another worker's now, or back in the queue\\): it writes, removes and records nothing for it`));
    assert.deepEqual(events(first).filter((e) => e.type === 'file-failed' || e.type === 'file-done'), [], 'the first worker reports nothing');
    assert.doesNotMatch(first.stdout + first.stderr, /Missing lock|could not renew lock/, 'one line says it, not BullMQ\'s complaints');
    assert.deepEqual(await readdir(join(p.dir, 'out')), ['f000.image.png'], 'the output, and no error report, no temporary file');
    assert.deepEqual(await readFile(output), good, 'the good output is untouched');
    assert.equal(await db.redis.hget(`unetflow:${name}:ledger`, 'f000.png'), entry, 'the ledger entry is untouched');
    assert.equal(JSON.parse(entry!).status, 'done');

    const again = cli(['run', p.pipeline, '--json']);
    assert.equal(await again.exit, 0, again.stderr);
    assert.deepEqual({ ...stats(again), seconds: 0 }, { type: 'stats', done: 0, failed: 0, skipped: 1, unchangedFailed: 0, seconds: 0 }, 'a rerun skips it as done');
    second.child.kill('SIGTERM');
    assert.equal(await second.exit, 0, second.stderr);
  });
}

test("a job of a file's new content waits while a live worker still writes the old content's outputs, then writes its own", skip, async () => {
  const name = 'one-writer';
  const p = await queueProject({ name, url: db.server.url, files: 1 });
  const pauses = join(p.dir, 'pauses');
  const first = cli(['worker', p.pipeline, '--json', '--concurrency', '1'], await pausing(p.dir, 'open'));
  await first.waitFor(/taking jobs of/);
  const producer = cli(['run', p.pipeline, '--json']);
  // The first worker is writing the old content's output (alive, its lock renewed) when the file changes.
  await until(() => existsSync(join(pauses, `at.${first.child.pid}`)), 'the first worker to open its output');
  const input = join(p.dir, 'in', 'f000.png');
  await writePng(input, 1234, 16);
  const s = await stat(input);
  const hash = await hashFile(input);
  const pipeline = pipelineHash((await loadPipeline(p.pipeline)).definition);
  const queue = new Queue(name, { connection: { host: '127.0.0.1', port: db.server.port }, prefix: 'unetflow' });
  try {
    // The new content's job, as a watch producer would add it.
    await queue.add('file', { pipeline, path: 'f000.png', hash, size: s.size, mtimeMs: s.mtimeMs, stem: 'f000' }, { jobId: jobId(pipeline, hash) });
    const second = cli(['worker', p.pipeline, '--json', '--concurrency', '1']);
    // It waits for the first (fixed), or writes at once (what this guards against: the two then undo each other).
    const waits = /f000\.png: another job of this file \([0-9a-f]{12}…, an earlier content\) is in flight on another worker: this one waits for it/;
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error(`the second worker neither waited nor wrote within 60 s:\n${second.stdout}`)), 60_000).unref());
    await Promise.race([second.waitFor(waits), second.waitFor(/"type":"file-(done|failed)"/), late]);

    await writeFile(join(pauses, `go.${first.child.pid}`), '');
    const produced = await producer.exit;
    // Both jobs over: the old content's (the first worker's) and the new one's (whichever worker took it once it could).
    const over = () => events(first).concat(events(second)).filter((e) => e.type === 'file-done' || e.type === 'file-failed');
    await until(() => over().length >= 2, 'both jobs to be over');
    assert.deepEqual((await readdir(join(p.dir, 'out'))).sort(), ['f000.image.png'], 'the output, no error report');
    const pixels = (file: string | Buffer) => sharp(file).raw().toBuffer();
    assert.deepEqual(await pixels(join(p.dir, 'out', 'f000.image.png')), await pixels(input), "the output is the new content's, written last");
    assert.equal(JSON.parse((await db.redis.hget(`unetflow:${name}:ledger`, 'f000.png'))!).hash, hash, 'the new content is recorded');
    assert.deepEqual(over().filter((e) => e.type === 'file-failed'), [], 'neither job failed');
    assert.equal(produced, 0, producer.stderr);
    assert.match(second.stdout, waits);
    for (const w of [first, second]) w.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all([first.exit, second.exit]), [0, 0]);
  } finally {
    await queue.close();
  }
});
