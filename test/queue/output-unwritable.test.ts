/**
 * A queue worker whose output disk is full or read-only, through the binary: real redis-server, a
 * real tmpfs as the output folder. The job goes back unrecorded, no error report is
 * written, the worker waits instead of exiting, and does the job once it can write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { needsRedis, redisForFile } from '../helpers/redis.js';
import { events, queueProject, startCli } from '../helpers/queue-project.js';
import { writePng } from '../helpers/files.js';
import { Tmpfs, tmpfsSkip } from '../helpers/tmpfs.js';

const skip = needsRedis().skip || tmpfsSkip();
const db = redisForFile({ skip: skip });

/** Replaces the project's `slow` step with one that holds each file until `go` exists. */
async function holdUntilGo(dir: string, pipeline: string): Promise<void> {
  await writeFile(
    join(dir, 'hold.mjs'),
    `import { concatMap } from ${JSON.stringify(import.meta.resolve('rxjs'))};\nimport { existsSync, writeFileSync } from 'node:fs';\n` +
      `export default { name: 'hold', params: { decode: (u) => ({ _tag: 'Right', right: u }) },\n` +
      `  create: () => (source) => source.pipe(concatMap(async (s) => { writeFileSync(${JSON.stringify(join(dir, 'in-flight'))}, ''); while (!existsSync(${JSON.stringify(join(dir, 'go'))})) await new Promise((r) => setTimeout(r, 50)); return s; })) };\n`,
  );
  const text = await readFile(pipeline, 'utf8');
  await writeFile(pipeline, text.replace('use: ./slow.mjs', 'use: ./hold.mjs').replace(/slow: \{ ms: \d+ \}/, 'hold: {}'));
}

for (const kind of ['full', 'read-only'] as const) {
test(`a worker whose output disk is ${kind} gives the job back unrecorded, writes no report, waits, and does the job once it can write`, { skip, timeout: 120_000 }, async () => {
  const name = `${kind}-disk`;
  const code = kind === 'full' ? 'ENOSPC' : 'EROFS';
  const p = await queueProject({ name, url: db.server.url, files: 1 });
  if (kind === 'read-only') await holdUntilGo(p.dir, p.pipeline);
  // An image whose PNG does not fit in what `fill` leaves, while an error report would.
  await writePng(join(p.dir, 'in', 'f000.png'), 1, 256);
  const out = Tmpfs.mount(join(p.dir, 'out'), '1m');
  try {
    if (kind === 'full') await out.fill();
    const worker = startCli(['worker', p.pipeline, '--json']);
    db.running.push(worker);
    await worker.waitFor(/taking jobs of/);
    const producer = startCli(['run', p.pipeline, '--json']);
    db.running.push(producer);
    if (kind === 'read-only') {
      // Read-only once the job is in flight: start-up (the producer's and the worker's) refuses a folder it cannot write.
      while (!existsSync(join(p.dir, 'in-flight'))) await new Promise((r) => setTimeout(r, 50));
      out.readOnly();
      await writeFile(join(p.dir, 'go'), '');
    }
    await worker.waitFor(new RegExp(`cannot be written: ${code}|"file-failed"`));
    await worker.waitFor(/trying again in|"file-failed"/);
    assert.equal(worker.child.exitCode, null, `the worker goes on: ${worker.stderr}`);
    assert.deepEqual(events(worker).filter((e) => e.type === 'file-failed'), [], 'no file failed');
    assert.match(worker.stdout, new RegExp(`the output folder ${join(p.dir, 'out')} cannot be written: ${code}`));
    assert.ok(!existsSync(join(p.dir, 'out', 'f000.error.json')), 'no error report');
    assert.deepEqual(await db.redis.hgetall(`unetflow:${name}:ledger`), {}, 'nothing recorded');

    if (kind === 'full') await out.free();
    else out.writable();
    assert.equal(await producer.exit, 0, producer.stderr);
    const stats = events(producer).find((e) => e.type === 'stats');
    assert.equal(stats?.done, 1);
    assert.equal(stats?.failed, 0);
    assert.ok(existsSync(join(p.dir, 'out', 'f000.image.png')));
    const entries = Object.values(await db.redis.hgetall(`unetflow:${name}:ledger`)).map((t) => JSON.parse(t) as { status: string });
    assert.deepEqual(entries.map((e) => e.status), ['done']);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exit, 0, worker.stderr);
  } finally {
    out.unmount();
  }
});
}
