/** File names with control characters are escaped in what a person reads, and exact in --json. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tempDir, writePng } from '../helpers/files.js';

const BIN = resolve('bin/unetflow.js');
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

// A colour escape, a newline that would fake a line of the log, a title-setting OSC sequence ending in BEL.
const RED = 'red\x1b[31mname.png';
const SPLIT = 'two\nFAILED  lines.png';
const TITLE = 'bad\x1b]0;owned\x07.png';

async function project() {
  const dir = await tempDir('unetflow-names-');
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', RED), 1);
  await writePng(join(dir, 'in', SPLIT), 2);
  await writeFile(join(dir, 'in', TITLE), 'not an image');
  await writeFile(join(dir, 'p.yaml'), 'version: 1\nname: names\nsource: { files: in }\nsteps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n');
  return dir;
}

test('names with an ANSI escape, a newline or an OSC sequence are printed escaped: nothing reaches the terminal, no line is split', async () => {
  const dir = await project();
  const r = cli(['run', join(dir, 'p.yaml')]);
  assert.equal(r.status, 1, r.stderr);
  const all = r.stdout + r.stderr;
  assert.doesNotMatch(all, /[\x00-\x09\x0b-\x1f\x7f]/, 'no control character but line ends');
  const done = r.stdout.split('\n').filter((l) => l.startsWith('done'));
  assert.equal(done.length, 2, r.stdout);
  assert.ok(done.some((l) => l.includes('in/red\\x1b[31mname.png') && l.includes('out/red\\x1b[31mname.image.png')), r.stdout);
  assert.ok(done.some((l) => l.includes('in/two\\nFAILED  lines.png')), r.stdout);
  const failed = r.stderr.split('\n').filter((l) => l.startsWith('FAILED'));
  assert.equal(failed.length, 1, `one FAILED line, the real one: ${r.stderr}`);
  assert.match(failed[0], /in\/bad\\x1b\]0;owned\\x07\.png: not a readable image.*\(report: .*out\/bad\\x1b\]0;owned\\x07\.error\.json\)$/);
});

test('--json keeps the names exactly as they are', async () => {
  const dir = await project();
  const r = cli(['run', join(dir, 'p.yaml'), '--json']);
  assert.equal(r.status, 1, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; file?: string });
  const names = events.filter((e) => e.type === 'file-done' || e.type === 'file-failed').map((e) => e.file!.slice(join(dir, 'in').length + 1));
  assert.deepEqual(names.sort(), [TITLE, RED, SPLIT].sort());
});

test('evaluate prints such names escaped too: in its table, its failures and its unmatched files', async () => {
  const dir = await tempDir('unetflow-names-');
  for (const side of ['truth', 'pred']) await mkdir(join(dir, side));
  await writePng(join(dir, 'truth', RED), 1);
  await writePng(join(dir, 'pred', RED), 1);
  await writePng(join(dir, 'truth', SPLIT), 2);
  await writeFile(join(dir, 'pred', SPLIT), 'not an image');
  await writePng(join(dir, 'truth', TITLE), 3);
  const r = cli(['evaluate', '--truth', join(dir, 'truth'), '--pred', join(dir, 'pred')]);
  assert.equal(r.status, 1, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /[\x00-\x09\x0b-\x1f\x7f]/, 'no control character but line ends');
  assert.match(r.stdout, /^red\\x1b\[31mname\s+\d/m);
  assert.match(r.stderr, /^failed  two\\nFAILED  lines: /m);
  assert.match(r.stderr, /^unmatched truth: .*bad\\x1b\]0;owned\\x07\.png$/m);
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('FAILED')).length, 0, r.stderr);
});
