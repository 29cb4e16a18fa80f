/**
 * Two `unetflow run` processes on one watch pipeline: the second is refused with a
 * message naming the holder, and after the first is killed with -9 the next start
 * takes its lock over and goes on where it stopped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { tempDir, writePng } from '../helpers/files.js';
import { sleep } from '../helpers/wait.js';

const BIN = resolve('bin/unetflow.js');
/** Killed when a test fails half-way: a watch run never ends on its own. */
const running = new Set<ChildProcess>();

function startWatch(pipeline: string) {
  const child = spawn(process.execPath, [BIN, 'run', pipeline], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { out: '', err: '' };
  child.stdout.on('data', (d) => (output.out += d));
  child.stderr.on('data', (d) => (output.err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  running.add(child);
  void exited.then(() => running.delete(child));
  const until = async (what: RegExp) => {
    for (let i = 0; i < 600 && !what.test(output.out + output.err); i++) await sleep(50);
    assert.match(output.out + output.err, what);
  };
  return { child, output, exited, until };
}

test('a second instance on one watch folder and ledger is refused; a lock left by kill -9 is taken over at the next start', { timeout: 90000 }, async (t) => {
  t.after(() => running.forEach((child) => child.kill('SIGKILL')));
  const dir = await tempDir('unetflow-cli-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'a.png'), 1);
  const pipeline = join(dir, 'w.yaml');
  await writeFile(pipeline, 'version: 1\nname: w\nsource: { watch: { dir: in, stableMs: 100 } }\nsteps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n');

  const first = startWatch(pipeline);
  await first.until(/done +.*a\.png/);

  const second = spawnSync(process.execPath, [BIN, 'run', pipeline], { encoding: 'utf8', timeout: 30000 });
  assert.equal(second.status, 3, second.stderr);
  const out = join(dir, 'out');
  assert.match(
    second.stderr,
    new RegExp(
      `^the output folder ${out} is in use by another unetflow run \\(pid ${first.child.pid} on host ${hostname()}, since \\S+Z, last heartbeat \\d+ s ago; lock file ${out}/\\.unetflow\\.lock\\): ` +
        `two runs writing one folder overwrite each other's outputs\\. Stop that run first \\(kill ${first.child.pid} asks it to finish its files and exit\\), or give this run another save\\.dir\\.$`,
      'm',
    ),
  );

  first.child.kill('SIGKILL');
  await first.exited;
  await writePng(join(dir, 'in', 'b.png'), 2); // arrives while nothing runs

  const third = startWatch(pipeline);
  await third.until(/done +.*b\.png/);
  assert.match(third.output.err, new RegExp(`took over the stale lock ${out}/\\.unetflow\\.lock, left by pid ${first.child.pid} on host ${hostname()} since \\S+: process ${first.child.pid} is gone`));
  assert.match(third.output.err, new RegExp(`took over the stale lock ${out}/\\.unetflow-ledger\\.jsonl\\.lock, left by pid ${first.child.pid} .*: process ${first.child.pid} is gone`));
  third.child.kill('SIGTERM');
  assert.equal(await third.exited, 0);
  assert.doesNotMatch(third.output.out, /done +.*a\.png/, 'a.png was done before the crash');
  assert.deepEqual((await readdir(out)).sort(), ['.unetflow-ledger.jsonl', 'a.image.png', 'b.image.png'], 'no lock left after a clean stop');
});
