/**
 * A full, read-only or gone output disk is the run's condition, not an image's: through
 * the binary, on a real tmpfs mounted as the output folder. No file is recorded failed
 * and no error report is written; a watch run waits and goes on once the folder can be
 * written again; a batch run ends with exit 4 and the next run does the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir, writePng } from '../helpers/files.js';
import { BIN, events, startCli } from '../helpers/queue-project.js';
import { Tmpfs, tmpfsSkip } from '../helpers/tmpfs.js';

const skip = tmpfsSkip();
const TIMEOUT = 120_000;
/** An image whose PNG (about 66 KB) does not fit in what `fill` leaves, while an error report would. */
const BIG = 256;

/** in/, out/ (a tmpfs), and pipelines: a watch run (its ledger outside out/) and a batch run. */
async function project(size = '1m') {
  const dir = await tempDir('unetflow-unwritable-');
  await mkdir(join(dir, 'in'));
  const out = Tmpfs.mount(join(dir, 'out'), size);
  const steps = 'steps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n';
  await writeFile(join(dir, 'watch.yaml'), `version: 1\nname: w\nsource: { watch: { dir: in, stableMs: 100, ledger: ledger.jsonl } }\n${steps}`);
  await writeFile(join(dir, 'batch.yaml'), `version: 1\nname: b\nsource: { files: in }\n${steps}`);
  return { dir, out, ledger: () => (existsSync(join(dir, 'ledger.jsonl')) ? readFileSync(join(dir, 'ledger.jsonl'), 'utf8') : '') };
}

for (const kind of ['full', 'read-only'] as const) {
  test(`a watch run whose output disk is ${kind} blames no file, says so, waits, and does the file once it can write`, { skip, timeout: TIMEOUT }, async () => {
    const { dir, out, ledger } = await project();
    const run = startCli(['run', join(dir, 'watch.yaml'), '--json']);
    try {
      await run.waitFor(/watching /);
      if (kind === 'full') await out.fill();
      else out.readOnly();
      await writePng(join(dir, 'in', 'a.png'), 1, BIG);
      await run.waitFor(kind === 'full' ? /cannot be written: ENOSPC|"file-failed"/ : /cannot be written: EROFS|"file-failed"/);
      await run.waitFor(/trying again in|"file-failed"/);
      assert.deepEqual(events(run).filter((e) => e.type === 'file-failed'), [], 'no file failed');
      assert.match(run.stdout, new RegExp(`the output folder ${join(dir, 'out')} cannot be written: ${kind === 'full' ? 'ENOSPC' : 'EROFS'}`));
      assert.ok(!existsSync(join(dir, 'out', 'a.error.json')), 'no error report');
      assert.doesNotMatch(ledger(), /a\.png/, 'nothing recorded');

      if (kind === 'full') await out.free();
      else out.writable();
      await run.waitFor(/"type":"file-done"/);
      assert.match(run.stdout, /writable again; going on/);
      assert.ok(existsSync(join(dir, 'out', 'a.image.png')));
      assert.match(ledger(), /"path":"a\.png".*"status":"done"/);
      run.child.kill('SIGTERM');
      assert.equal(await run.exit, 0, run.stderr);
      assert.ok(!existsSync(join(dir, 'out', '.unetflow.lock')), 'the lock is released');
      assert.ok(!existsSync(join(dir, 'ledger.jsonl.lock')), "the ledger's lock is released");
    } finally {
      run.child.kill('SIGKILL');
      out.unmount();
    }
  });
}

test('a watch run whose output share is unmounted (its mount point on a read-only disk) blames no file, keeps its lock, and goes on once the share is back', { skip, timeout: TIMEOUT }, async () => {
  const dir = await tempDir('unetflow-unwritable-');
  await mkdir(join(dir, 'in'));
  const disk = Tmpfs.mount(join(dir, 'disk'), '1m');
  let share = Tmpfs.mount(join(dir, 'disk', 'share'), '1m');
  const out = join(dir, 'disk', 'share', 'results');
  await writeFile(join(dir, 'watch.yaml'), `version: 1\nname: w\nsource: { watch: { dir: in, stableMs: 100, ledger: ledger.jsonl } }\nsteps:\n  - load: {}\n  - save: { dir: ${out}, outputs: [image] }\n`);
  const run = startCli(['run', join(dir, 'watch.yaml'), '--json']);
  try {
    await run.waitFor(/watching /);
    share.unmount();
    disk.readOnly();
    await writePng(join(dir, 'in', 'a.png'), 1, 24);
    await run.waitFor(/cannot be written|"file-failed"/);
    // 15 s without the folder: the lock's heartbeat (every 10 s) has found its file gone.
    await run.waitFor(/trying again in 16 s|"file-failed"|lost the lock/);
    assert.deepEqual(events(run).filter((e) => e.type === 'file-failed'), [], 'no file failed');
    assert.doesNotMatch(run.stdout, /lost the lock/);
    assert.ok(!existsSync(join(dir, 'ledger.jsonl')) || !readFileSync(join(dir, 'ledger.jsonl'), 'utf8').includes('a.png'), 'nothing recorded');

    share = Tmpfs.mount(join(dir, 'disk', 'share'), '1m');
    await run.waitFor(/"type":"file-done"/);
    assert.ok(existsSync(join(out, 'a.image.png')));
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 0, run.stderr);
  } finally {
    run.child.kill('SIGKILL');
    share.unmount();
    disk.unmount();
  }
});

test('a watch run stopped while it waits for its output disk exits 0 and leaves the waiting file unrecorded', { skip, timeout: TIMEOUT }, async () => {
  const { dir, out, ledger } = await project();
  const run = startCli(['run', join(dir, 'watch.yaml'), '--json']);
  try {
    await run.waitFor(/watching /);
    await out.fill();
    await writePng(join(dir, 'in', 'a.png'), 1, BIG);
    await run.waitFor(/trying again in|"file-failed"/);
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 0, run.stderr);
    assert.doesNotMatch(ledger(), /a\.png/);
    assert.deepEqual(events(run).filter((e) => e.type === 'file-failed'), []);
  } finally {
    run.child.kill('SIGKILL');
    out.unmount();
  }
});

test('a batch run whose output disk is full ends with exit 4, naming the folder and ENOSPC, and the next run does the file', { skip, timeout: TIMEOUT }, async () => {
  const { dir, out } = await project();
  try {
    await writePng(join(dir, 'in', 'a.png'), 1, BIG);
    await out.fill();
    const full = spawnSync(process.execPath, [BIN, 'run', join(dir, 'batch.yaml')], { encoding: 'utf8' });
    assert.equal(full.status, 4, full.stderr);
    assert.match(full.stderr, new RegExp(`the output folder ${join(dir, 'out')} cannot be written: ENOSPC \\(no space left on the disk\\); no file is blamed for it`));
    assert.doesNotMatch(full.stderr, /FAILED/);
    assert.ok(!existsSync(join(dir, 'out', 'a.error.json')), 'no error report');
    assert.ok(!existsSync(join(dir, 'out', '.unetflow.lock')), 'the lock is released');

    await out.free();
    const again = spawnSync(process.execPath, [BIN, 'run', join(dir, 'batch.yaml')], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.ok(existsSync(join(dir, 'out', 'a.image.png')));
  } finally {
    out.unmount();
  }
});

test('a batch run whose output folder turns read-only mid-run ends with exit 4 naming EROFS, and the next run does the file', { skip, timeout: TIMEOUT }, async () => {
  const { dir, out } = await project();
  try {
    await writePng(join(dir, 'in', 'a.png'), 1, BIG);
    // A step that holds the file until go exists, so that the folder turns read-only while it is in flight.
    const rxjs = JSON.stringify(import.meta.resolve('rxjs'));
    await writeFile(
      join(dir, 'hold.mjs'),
      `import { concatMap } from ${rxjs};\nimport { existsSync, writeFileSync } from 'node:fs';\n` +
        `export default { name: 'hold', params: { decode: (u) => ({ _tag: 'Right', right: u }) },\n` +
        `  create: () => (source) => source.pipe(concatMap(async (s) => { writeFileSync(${JSON.stringify(join(dir, 'in-flight'))}, ''); while (!existsSync(${JSON.stringify(join(dir, 'go'))})) await new Promise((r) => setTimeout(r, 50)); return s; })) };\n`,
    );
    await writeFile(join(dir, 'hold.yaml'), `version: 1\nname: h\nuse: ./hold.mjs\nsource: { files: in }\nsteps:\n  - load: {}\n  - hold: {}\n  - save: { dir: out, outputs: [image] }\n`);
    const run = startCli(['run', join(dir, 'hold.yaml')]);
    try {
      while (!existsSync(join(dir, 'in-flight'))) await new Promise((r) => setTimeout(r, 50));
      out.readOnly();
      await writeFile(join(dir, 'go'), '');
      assert.equal(await run.exit, 4, run.stderr);
      assert.match(run.stderr, new RegExp(`the output folder ${join(dir, 'out')} cannot be written: EROFS`));
      assert.doesNotMatch(run.stderr, /FAILED|\.tmp/);
    } finally {
      run.child.kill('SIGKILL');
    }
    out.writable();
    assert.ok(!existsSync(join(dir, 'out', 'a.error.json')), 'no error report');
    const again = spawnSync(process.execPath, [BIN, 'run', join(dir, 'batch.yaml')], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.ok(existsSync(join(dir, 'out', 'a.image.png')));
  } finally {
    out.unmount();
  }
});
