import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { evaluateCommand } from '../../src/cli/evaluate.js';
import { makeImage } from '../../src/image/image.js';
import { encodeImage } from '../../src/io/write.js';
import { segmentationMetrics } from '../../src/kernels/metrics/segmentation.js';
import { tempDir } from '../helpers/files.js';

// Two cells (255) either side of a membrane (0); the prediction opens the membrane in the middle row.
const truthValues = [255, 255, 0, 255, 255, 255, 255, 0, 255, 255, 255, 255, 0, 255, 255];
const predValues = [255, 255, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 255, 255];
const expected = segmentationMetrics(truthValues, predValues, 5, 3);

async function png(path: string, values: number[], width = 5) {
  await writeFile(path, await encodeImage(makeImage(width, values.length / width, 1, 'uint8', Uint8Array.from(values)), 'png'));
}

function capture() {
  const text = { out: '', err: '' };
  return { text, streams: { out: { write: (s: string) => (text.out += s) }, err: { write: (s: string) => (text.err += s) } } };
}

async function folders() {
  const dir = await tempDir('unetflow-evaluate-');
  await mkdir(join(dir, 'truth'));
  await mkdir(join(dir, 'pred'));
  await png(join(dir, 'truth', 'a.png'), truthValues);
  await png(join(dir, 'truth', 'b.png'), truthValues);
  await png(join(dir, 'truth', 'c.png'), truthValues);
  await png(join(dir, 'pred', 'a.png'), predValues);
  await png(join(dir, 'pred', 'b.mask.png'), truthValues); // as `save` names masks
  await png(join(dir, 'pred', 'd.png'), truthValues);
  return dir;
}

test('folders are matched by name, scored in a table with the mean, and unmatched files are reported', async () => {
  const dir = await folders();
  const { text, streams } = capture();
  const code = await evaluateCommand(join(dir, 'truth'), join(dir, 'pred'), {}, streams);
  assert.equal(code, 0, text.err);
  const lines = text.out.trim().split('\n');
  assert.match(lines[0], /^image\s+pixel\s+rand\s+adapted-rand\s+vi-split\s+vi-merge\s+warping\s+splits\s+merges\s+iou\s+dice$/);
  assert.match(lines[1], new RegExp(`^a\\s+${expected.pixelError.toFixed(4)}\\s+${expected.randError.toFixed(4)}\\s`));
  assert.match(lines[2], /^b\s+0\.0000\s+0\.0000\s/);
  assert.match(lines[3], /^mean \(2\)\s+0\.0333\s/);
  assert.equal(lines.length, 4);
  assert.match(text.err, /unmatched truth: .*c\.png/);
  assert.match(text.err, /unmatched prediction: .*d\.png/);
});

test('--json prints one line per image with every metric, then the unmatched files and the mean', async () => {
  const dir = await folders();
  const { text, streams } = capture();
  assert.equal(await evaluateCommand(join(dir, 'truth'), join(dir, 'pred'), { json: true }, streams), 0);
  const lines = text.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.type), ['image', 'image', 'unmatched', 'unmatched', 'mean']);
  assert.deepEqual(lines[0].metrics, expected);
  assert.equal(lines[0].id, 'a');
  assert.equal(lines[1].metrics.randError, 0);
  assert.deepEqual([lines[2].side, lines[3].side], ['truth', 'prediction']);
  assert.equal(lines[4].images, 2);
  assert.equal(lines[4].metrics.merges, 0.5);
  assert.equal(text.err, '');
});

test('two files are one image; the threshold decides what is predicted foreground', async () => {
  const dir = await tempDir('unetflow-evaluate-');
  await png(join(dir, 't.png'), truthValues);
  await png(join(dir, 'p.png'), truthValues.map((v) => (v ? 100 : 0)));
  const dim = capture();
  assert.equal(await evaluateCommand(join(dir, 't.png'), join(dir, 'p.png'), { json: true }, dim.streams), 0);
  assert.equal(JSON.parse(dim.text.out.split('\n')[0]).metrics.pixelError, 12 / 15, 'above 127 only: 100 is background');
  const low = capture();
  assert.equal(await evaluateCommand(join(dir, 't.png'), join(dir, 'p.png'), { json: true, threshold: 50 }, low.streams), 0);
  assert.equal(JSON.parse(low.text.out.split('\n')[0]).metrics.pixelError, 0);
});

test('an image that cannot be scored fails with exit code 1 and the others are still scored', async () => {
  const dir = await folders();
  await png(join(dir, 'truth', 'd.png'), [255, 0, 255, 0], 2); // the prediction d.png is 5x3
  const { text, streams } = capture();
  assert.equal(await evaluateCommand(join(dir, 'truth'), join(dir, 'pred'), {}, streams), 1);
  assert.match(text.err, /failed {2}d: the truth is 2x2 but the prediction 5x3/);
  assert.match(text.out, /mean \(2\)/);
});

test('wrong paths and options are usage errors with exit code 2; nothing matched is exit code 1', async () => {
  const dir = await folders();
  const missing = capture();
  assert.equal(await evaluateCommand(join(dir, 'nope'), join(dir, 'pred'), {}, missing.streams), 2);
  assert.match(missing.text.err, /--truth .*nope: no such file or folder/);
  const mixed = capture();
  assert.equal(await evaluateCommand(join(dir, 'truth'), join(dir, 'pred', 'a.png'), {}, mixed.streams), 2);
  assert.match(mixed.text.err, /--truth is a folder but --pred a file: give two files or two folders/);
  const nan = capture();
  assert.equal(await evaluateCommand(join(dir, 'truth'), join(dir, 'pred'), { threshold: Number('x') }, nan.streams), 2);
  const empty = await tempDir('unetflow-evaluate-');
  const none = capture();
  assert.equal(await evaluateCommand(join(dir, 'truth'), empty, {}, none.streams), 1);
  assert.match(none.text.err, /no prediction matched a ground-truth image/);
});

test('unetflow evaluate runs from the command line', async () => {
  const dir = await folders();
  const r = spawnSync(process.execPath, [resolve('bin/unetflow.js'), 'evaluate', '--truth', join(dir, 'truth', 'a.png'), '--pred', join(dir, 'pred', 'a.png'), '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.split('\n')[0]).metrics, expected);
  const usage = spawnSync(process.execPath, [resolve('bin/unetflow.js'), 'evaluate', '--truth', dir], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /required option '--pred <path>' not specified/);
});
