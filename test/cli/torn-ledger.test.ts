/**
 * A ledger whose last line a power cut tore mid-append, and one with a line damaged in
 * the middle: the next run says what it found and mended, appends nothing onto the torn
 * line, and no file recorded whole is done again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, writePng } from '../helpers/files.js';
import { killWatchRuns, startWatchRun } from '../helpers/watch-cli.js';

test('a torn last ledger line is removed before the next append, a damaged line is reported by number, and nothing recorded is redone', { timeout: 120000 }, async (t) => {
  t.after(killWatchRuns);
  const dir = await tempDir('unetflow-cli-');
  await mkdir(join(dir, 'in'));
  const pipeline = join(dir, 'w.yaml');
  await writeFile(pipeline, 'version: 1\nname: w\nconcurrency: 1\nsource: { watch: { dir: in, stableMs: 100 } }\nsteps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n');
  const ledger = join(dir, 'out', '.unetflow-ledger.jsonl');
  for (const name of ['a', 'b', 'c']) await writePng(join(dir, 'in', `${name}.png`), name.charCodeAt(0));

  const first = startWatchRun(pipeline);
  for (const name of ['a', 'b', 'c']) await first.until(new RegExp(`done +\\S*${name}\\.png`));
  first.child.kill('SIGTERM');
  await first.exited;

  // b's line damaged in place (a disk error), then the power cut tearing the line of a file d.
  const lines = (await readFile(ledger, 'utf8')).split('\n');
  const b = lines.findIndex((l) => l.includes('"path":"b.png"'));
  lines[b] = lines[b].replace('"status":"done"', '"status":"dnoe"');
  await writeFile(ledger, lines.join('\n'));
  await appendFile(ledger, '{"path":"d.png","size":1');
  await writePng(join(dir, 'in', 'd.png'), 4);
  await writePng(join(dir, 'in', 'e.png'), 5);

  const second = startWatchRun(pipeline);
  await second.until(/done +\S*e\.png/);
  await second.until(/done +\S*d\.png/);
  second.child.kill('SIGTERM');
  await second.exited;
  const out = second.output();
  assert.match(out, new RegExp(`^warning: ledger ${ledger} line ${b + 1}: unreadable, skipped \\(status: expected 'done' \\| 'failed', got "dnoe"\\); kept in ${ledger}\\.unreadable; the file it recorded is processed again if it is still there$`, 'm'));
  assert.match(out, new RegExp(`^warning: ledger ${ledger} line 4: torn \\(24 bytes without a newline, left by a run that stopped while appending it\\): removed; the file it recorded is processed again$`, 'm'));
  assert.match(out, /done +\S*b\.png/, 'the file of the damaged line is done again');
  assert.doesNotMatch(out, /done +\S*[ac]\.png/);
  assert.match(await readFile(`${ledger}.unreadable`, 'utf8'), new RegExp(`^\\S+Z line ${b + 1}: .*"status":"dnoe"`));

  // Every line the second run appended is whole: a third start redoes nothing, d and e included.
  for (const line of (await readFile(ledger, 'utf8')).trim().split('\n').slice(b + 1)) JSON.parse(line);
  await writePng(join(dir, 'in', 'f.png'), 6);
  const third = startWatchRun(pipeline);
  await third.until(/done +\S*f\.png/);
  third.child.kill('SIGTERM');
  await third.exited;
  assert.doesNotMatch(third.output(), /done +\S*[a-e]\.png/);
  assert.doesNotMatch(third.output(), /ledger .* line/, 'nothing left to mend');
});
