/** Queue mode refuses what it cannot spread over machines, at validate, run and worker alike (exit 2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadPipeline } from '../../src/pipeline/run.js';
import { queueSettings } from '../../src/queue/settings.js';
import { tempDir, writePng } from '../helpers/files.js';
import { BIN } from '../helpers/queue-project.js';

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

/** A pipeline with a stream-scoped step (`collect`, which sees every sample, as training does). */
async function project(queueSection: string) {
  const dir = await tempDir('unetflow-queue-settings-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'a.png'), 1);
  await writeFile(join(dir, 'collect.mjs'), `export default { name: 'collect', scope: 'stream', params: { decode: (u) => ({ _tag: 'Right', right: u }) }, create: () => (s) => s };\n`);
  await writeFile(join(dir, 'p.yaml'), `version: 1\nname: stream\nuse: ./collect.mjs\n${queueSection}source: { files: in }\nsteps:\n  - load: {}\n  - collect: {}\n`);
  return join(dir, 'p.yaml');
}

test('a stream-scoped step in a pipeline with a queue: section is refused by validate and worker, naming the step', async () => {
  const file = await project('queue: redis://127.0.0.1:1/0\n');
  for (const command of ['validate', 'worker']) {
    const r = cli([command, file]);
    assert.equal(r.status, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /p\.yaml:\d+:\d+ steps\[1\]\.collect: collect sees every sample of the run, so it runs on one machine only and cannot run through a queue/, command);
  }
});

test('a stream-scoped step is refused with --queue too, before Redis is reached', async () => {
  const r = cli(['run', await project(''), '--queue', 'redis://127.0.0.1:1/0']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /steps\[1\]\.collect: collect sees every sample of the run/);
});

test('a queue: section without a url, and no --queue, is refused (exit 2)', async () => {
  const plan = await loadPipeline({ version: 1, name: 'q', queue: { lockMs: 1000 }, source: { files: 'in' }, steps: [{ load: {} }] }, { baseDir: dirname(await project('')) });
  assert.throws(() => queueSettings(plan), (e: Error & { exitCode?: number }) => {
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /queue: names no url; give one there or with --queue redis:\/\/host:6379\/0/);
    return true;
  });
  assert.equal(queueSettings(plan, 'redis://h/0').lockMs, 1000);
});

test('the timings default to BullMQ\'s, and --queue wins over the section\'s url', async () => {
  const plan = await loadPipeline({ version: 1, name: 'Seg 1', queue: 'redis://a/0', source: { files: 'in' }, steps: [{ load: {} }] }, { baseDir: dirname(await project('')) });
  const s = queueSettings(plan, 'redis://b:7000/2');
  assert.deepEqual({ ...s, connection: s.connection.display, pipelineHash: undefined }, {
    connection: 'redis://b:7000/2', queue: 'Seg_1', pipelineHash: undefined, lockMs: 30000, stalledMs: 30000, maxStalled: 1, attempts: 5, backoffMs: 1000,
  });
});

test('a queue: section is checked like every other: a typo is named with a hint', async () => {
  await assert.rejects(
    loadPipeline({ version: 1, name: 't', queue: { url: 'redis://h/0', lockMS: 1000 }, source: { files: 'in' }, steps: [{ load: {} }] }, { baseDir: dirname(await project('')) }),
    /queue\.lockMS: unknown key 'lockMS' — did you mean 'lockMs'\?/,
  );
});
