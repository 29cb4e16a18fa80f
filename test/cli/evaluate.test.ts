import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { evaluateCommand } from '../../src/cli/evaluate.js';
import { makeImage } from '../../src/image/image.js';
import { encodeImage } from '../../src/io/write.js';
import type { SegmentationMetrics } from '../../src/kernels/metrics/segmentation.js';
import { merge, split } from '../kernels/metrics/cases.js';
import { tempDir } from '../helpers/files.js';

// The hand-made masks of the metric kernel tests (5x3): two cells either side of a membrane,
// and a prediction that opens the membrane in the middle row (a merge).
const truthValues = Array.from(merge.truth, (v) => v * 255);
const predValues = Array.from(merge.prediction, (v) => v * 255);

/**
 * Metrics of the merge case, by hand (derivations in test/kernels/metrics/*.test.ts):
 * 1 of 15 pixels differs; 12 shared of 13 foreground. Rand: the two cells of 6 in one
 * predicted segment, sum a² = 72, sum b² = 144, sum n² = 72: precision 1/2, recall 1.
 * Adapted Rand: pairs together 60, truth 60, predicted 132. VI: one bit of merge.
 * Warping: the gap cannot be warped away, one merge.
 */
const mergeMetrics: SegmentationMetrics = {
  pixelError: 1 / 15, randError: 1 / 3, randPrecision: 1 / 2, randRecall: 1, adaptedRandError: 1 - 60 / 96,
  viSplit: 0, viMerge: 1, vi: 1, warpingError: 1 / 15, splits: 0, merges: 1, iou: 12 / 13, dice: 24 / 25,
  truthSegments: 2, predictedSegments: 1,
};

/**
 * The split case: one cell of 15 cut by a column of 3 background pixels into two of 6.
 * Rand: sum a² = 225, sum b² = sum n² = 75 (the cut's pixels singletons): recall 1/3.
 * Adapted Rand: together 66, truth pairs 210, predicted 66. VI: H(P|T) with parts 6, 6 and
 * three singletons. Warping: two cut pixels only dent the cell, the last one splits it.
 */
const splitVi = (12 / 15) * Math.log2(15 / 6) + (3 / 15) * Math.log2(15);
const splitMetrics: SegmentationMetrics = {
  pixelError: 3 / 15, randError: 1 / 2, randPrecision: 1, randRecall: 1 / 3, adaptedRandError: 1 - 66 / 138,
  viSplit: splitVi, viMerge: 0, vi: splitVi, warpingError: 1 / 15, splits: 1, merges: 0, iou: 12 / 15, dice: 24 / 27,
  truthSegments: 1, predictedSegments: 2,
};

function assertMetrics(actual: SegmentationMetrics, expected: SegmentationMetrics, what: string): void {
  for (const [name, value] of Object.entries(expected)) {
    const got = actual[name as keyof SegmentationMetrics];
    assert.ok(Math.abs(got - value) < 1e-12, `${what} ${name}: got ${got}, expected ${value}`);
  }
}

async function png(path: string, values: ArrayLike<number>, width = 5) {
  await writeFile(path, await encodeImage(makeImage(width, values.length / width, 1, 'uint8', Uint8Array.from(values)), 'png'));
}

async function tiff16(path: string, values: ArrayLike<number>, width = 5) {
  await writeFile(path, await encodeImage(makeImage(width, values.length / width, 1, 'uint16', Uint16Array.from(values)), 'tiff'));
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
  assert.match(lines[1], /^a\s+0\.0667\s+0\.3333\s+0\.3750\s+0\.0000\s+1\.0000\s+0\.0667\s+0\s+1\s+0\.9231\s+0\.9600$/);
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
  assertMetrics(lines[0].metrics, mergeMetrics, 'a');
  assert.equal(lines[0].id, 'a');
  assert.equal(lines[1].metrics.randError, 0);
  assert.deepEqual([lines[2].side, lines[3].side], ['truth', 'prediction']);
  assert.equal(lines[4].images, 2);
  assert.equal(lines[4].metrics.merges, 0.5);
  assert.equal(text.err, '');
});

test('two files are one image; a grey-level prediction is cut at half its range unless --threshold says otherwise', async () => {
  const dir = await tempDir('unetflow-evaluate-');
  await png(join(dir, 't.png'), truthValues);
  // Grey levels (every pixel its own value): the cells 130-200, the membrane 10-20 except 100
  // where the prediction opens it.
  const grey = truthValues.map((v, i) => (v ? 130 + 5 * i : i === 7 ? 100 : 10 + i));
  await png(join(dir, 'p.png'), grey);
  const half = capture();
  assert.equal(await evaluateCommand(join(dir, 't.png'), join(dir, 'p.png'), { json: true }, half.streams), 0);
  assert.equal(JSON.parse(half.text.out.split('\n')[0]).metrics.pixelError, 0, 'above 127 only: 100 is background');
  assert.equal(half.text.err, '', 'grey levels with values above half the range are no guess');
  const low = capture();
  assert.equal(await evaluateCommand(join(dir, 't.png'), join(dir, 'p.png'), { json: true, threshold: 50 }, low.streams), 0);
  assertMetrics(JSON.parse(low.text.out.split('\n')[0]).metrics, mergeMetrics, 'above 50');
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
  assertMetrics(JSON.parse(r.stdout.split('\n')[0]).metrics, mergeMetrics, 'a');
  const usage = spawnSync(process.execPath, [resolve('bin/unetflow.js'), 'evaluate', '--truth', dir], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /required option '--pred <path>' not specified/);
});

/** Runs the real command line; returns its exit code, the NDJSON image lines by id, and stderr. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [resolve('bin/unetflow.js'), 'evaluate', ...args, '--json'], { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const images = new Map<string, SegmentationMetrics>(lines.filter((l) => l.type === 'image').map((l) => [l.id, l.metrics]));
  return { status: r.status, images, stderr: r.stderr };
}

test('0/1 and 0/255 masks and 8- or 16-bit instance labels are read as what they are, as truth and as prediction', async () => {
  const dir = await tempDir('unetflow-evaluate-');
  await mkdir(join(dir, 'truth'));
  await mkdir(join(dir, 'pred'));
  const ids = (mask: Uint8Array, left: number, right: number) => Array.from(mask, (v, i) => (v ? (i % 5 < 2 ? left : right) : 0));
  // 0/1 truth and prediction (scored empty under a plain threshold of 127).
  await png(join(dir, 'truth', 'a.png'), merge.truth);
  await png(join(dir, 'pred', 'a.png'), merge.prediction);
  // 0/255 truth; a 16-bit instance image as the prediction, its two cells ids 7 and 300.
  await png(join(dir, 'truth', 'b.png'), Array.from(split.truth, (v) => v * 255));
  await tiff16(join(dir, 'pred', 'b.tif'), ids(split.prediction, 7, 300));
  // 16-bit instance truth (ids 2 and 900); a 0/3 mask as the prediction.
  await tiff16(join(dir, 'truth', 'c.tif'), ids(merge.truth, 2, 900));
  await png(join(dir, 'pred', 'c.png'), Array.from(merge.prediction, (v) => v * 3));
  // 8-bit instance labels on both sides (ids 1 and 2), touching in the truth.
  await png(join(dir, 'truth', 'd.png'), ids(split.truth, 1, 2));
  await png(join(dir, 'pred', 'd.png'), ids(split.prediction, 1, 2));
  const r = cli('--truth', join(dir, 'truth'), '--pred', join(dir, 'pred'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'none of these is a guess');
  assert.deepEqual([...r.images.keys()], ['a', 'b', 'c', 'd']);
  assertMetrics(r.images.get('a')!, mergeMetrics, 'a (0/1)');
  assertMetrics(r.images.get('b')!, splitMetrics, 'b (16-bit instances)');
  assertMetrics(r.images.get('c')!, mergeMetrics, 'c (instance truth)');
  // d: touching instances are one foreground segment (docs/metrics.md), so this is the split case again.
  assertMetrics(r.images.get('d')!, splitMetrics, 'd (8-bit instances)');
});

test('ambiguous masks are read by the stated rule with a warning naming the file, and --threshold overrides the guess', async () => {
  const dir = await tempDir('unetflow-evaluate-');
  await mkdir(join(dir, 'truth'));
  await mkdir(join(dir, 'pred'));
  // Two values either side of half the range, each one region: instance ids, or a mask with
  // a faint and a bright class? Read as instances (every nonzero pixel), with a warning.
  await png(join(dir, 'truth', 'a.png'), Array.from(split.truth, (v) => v * 255));
  await png(join(dir, 'pred', 'a.png'), Array.from(split.prediction, (v, i) => (v ? (i % 5 < 2 ? 100 : 255) : 0)));
  // Class indices 0/1/2, each class in several places, nothing above 127: cut at half the
  // image's maximum (1), so only class 2 is foreground.
  const classes = [2, 2, 1, 2, 2, 1, 0, 0, 0, 1, 2, 2, 1, 2, 2];
  await png(join(dir, 'truth', 'b.png'), Array.from(merge.truth, (v) => v * 255));
  await png(join(dir, 'pred', 'b.png'), classes);
  // A truth in grey levels (say, a lossy copy of a 0/255 mask): cut at 127, with a warning.
  const lossy = Array.from(merge.truth, (v, i) => (v ? 240 + i : 3 + i));
  await png(join(dir, 'truth', 'c.png'), lossy);
  await png(join(dir, 'pred', 'c.png'), merge.truth);
  const r = cli('--truth', join(dir, 'truth'), '--pred', join(dir, 'pred'));
  assert.equal(r.status, 0, r.stderr);
  const warnings = r.stderr.trim().split('\n');
  assert.equal(warnings.length, 3, r.stderr);
  assert.match(warnings[0], /^warning: .*pred\/a\.png: two values besides 0 \(100, 255\), each about one region: read as instance labels, foreground = every nonzero pixel \(pass --threshold to choose\)$/);
  assert.match(warnings[1], /^warning: .*pred\/b\.png: no value is above 127, half the uint8 range: read as grey levels, foreground = values above 1, half the image's maximum \(pass --threshold to choose\)$/);
  assert.match(warnings[2], /^warning: .*truth\/c\.png: 15 values besides 0, neither a binary mask nor instance labels: read as grey levels, foreground = values above 127 \(save the truth as a mask or as instance labels\)$/);
  assertMetrics(r.images.get('a')!, splitMetrics, 'a');
  // b: class 2 covers the cells' top and bottom rows: 8 of their 12 pixels, nothing else.
  assert.equal(r.images.get('b')!.iou, 8 / 12);
  assert.equal(r.images.get('c')!.pixelError, 0);

  // --threshold decides for the prediction, and the prediction's guess is not warned about.
  const fixed = cli('--truth', join(dir, 'truth', 'a.png'), '--pred', join(dir, 'pred', 'a.png'), '--threshold', '127');
  assert.equal(fixed.status, 0, fixed.stderr);
  assert.equal(fixed.stderr, '');
  assert.equal(fixed.images.get('a')!.iou, 6 / 15, 'only the bright cell is above 127');
});
