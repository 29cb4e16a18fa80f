/**
 * Files the file watcher never reports are still taken by a watch run, each once: a
 * network share that another machine writes into sends no event to this one, and under
 * load chokidar has missed the last files of a burst. Here an overlay mount stands in
 * for the share: what is written beneath it appears in the watched folder unannounced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, writePng } from '../helpers/files.js';
import { Overlay } from '../helpers/overlay.js';
import { killWatchRuns, startWatchRun } from '../helpers/watch-cli.js';

test('a watch run takes, once each, files that appear in its folder with no event from the file watcher', { timeout: 120000, skip: Overlay.skip() }, async (t) => {
  t.after(killWatchRuns);
  const dir = await tempDir('unetflow-cli-');
  const overlay = Overlay.mount(join(dir, 'share'));
  t.after(() => overlay.unmount());
  const watched = join(overlay.mounted, 'in');
  await mkdir(watched); // made through the mount: a folder of the upper layer alone, listed as it is
  const pipeline = join(dir, 'w.yaml');
  await writeFile(pipeline, `version: 1\nname: w\nsource: { watch: { dir: ${JSON.stringify(watched)}, stableMs: 100 } }\nsteps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n`);

  const run = startWatchRun(pipeline);
  await run.until(/watching /);
  await writePng(join(watched, 'seen.png'), 1);
  await run.until(/done +\S*seen\.png/);
  for (const [i, name] of ['unseen-a.png', 'unseen-b.png', 'unseen-c.png'].entries()) await writePng(join(overlay.beneath, 'in', name), 2 + i);
  for (const name of ['a', 'b', 'c']) await run.until(new RegExp(`done +\\S*unseen-${name}\\.png`));
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0);

  const missed = run.output().split('\n').filter((l) => l.includes('did not report'));
  assert.equal(missed.length, 1, `said once, not per file:\n${run.output()}`);
  assert.match(missed[0], /^warning: watch .*: the file watcher did not report .*unseen-.\.png; a rescan of the folder every 2 s or more finds such files \(on a network share, `poll: true` sees them sooner\)$/);
  const entries = (await readFile(join(dir, 'out', '.unetflow-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(entries.map((e) => [e.path, e.status]).sort(), [['seen.png', 'done'], ['unseen-a.png', 'done'], ['unseen-b.png', 'done'], ['unseen-c.png', 'done']]);
  assert.match(run.output(), /4 done/, 'none done twice, none skipped as a repeat');
});
