/**
 * `unetflow evaluate --truth PATH --pred PATH [--json] [--threshold T]`: scores predicted
 * masks against ground truth, per image and on average. PATH is a file or a folder;
 * folders are matched by file name without extension (a prediction `<name>.mask.png`, as
 * `save` writes it, matches `<name>`). Each file's foreground is read by its convention
 * (binary mask, instance labels, or grey levels; see `readForeground`), with a warning on
 * stderr where that is a guess. Exit codes: 0 all matched images scored, 1 an image
 * failed or nothing matched, 2 a wrong path or option.
 */
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { listFiles } from '../io/folders.js';
import { messageOf } from '../errors.js';
import { sameSize } from '../image/image.js';
import { inspectImage, readImage } from '../io/read.js';
import { readForeground } from '../kernels/metrics/mask-reading.js';
import { meanMetrics, segmentationMetrics, type SegmentationMetrics } from '../kernels/metrics/segmentation.js';
import { printable } from './render.js';

export interface EvaluateCommandOptions {
  /** NDJSON on stdout: one `image` (or `failed`, `unmatched`) line per file, then the `mean`. */
  readonly json?: boolean;
  /** Prediction pixels greater than this are foreground, whatever the file's convention. @default read from the file (see `readForeground`) */
  readonly threshold?: number;
}

interface Output {
  write(text: string): unknown;
}

interface Pair {
  readonly id: string;
  readonly truth: string;
  readonly prediction: string;
  /** Page of both files, for stacks evaluated page by page. */
  readonly page?: number;
}

export async function evaluateCommand(
  truth: string,
  pred: string,
  options: EvaluateCommandOptions,
  streams: { out: Output; err: Output } = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const { out, err } = streams;
  const emit = (line: object) => out.write(JSON.stringify(line) + '\n');
  if (options.threshold !== undefined && !Number.isFinite(options.threshold)) {
    err.write('unetflow evaluate: --threshold must be a number\n');
    return 2;
  }
  let matched: { pairs: Pair[]; unmatchedTruth: string[]; unmatchedPrediction: string[] };
  try {
    matched = await match(truth, pred);
  } catch (error) {
    err.write(`unetflow evaluate: ${printable(messageOf(error))}\n`);
    return 2;
  }

  const scored: { pair: Pair; metrics: SegmentationMetrics }[] = [];
  let failed = 0;
  for (const pair of await expandPages(matched.pairs)) {
    try {
      const { metrics, warnings } = await score(pair, options.threshold);
      for (const warning of warnings) err.write(`warning: ${printable(warning)}\n`);
      scored.push({ pair, metrics });
      if (options.json) emit({ type: 'image', id: pair.id, truth: pair.truth, prediction: pair.prediction, metrics });
    } catch (error) {
      failed++;
      if (options.json) emit({ type: 'failed', id: pair.id, truth: pair.truth, prediction: pair.prediction, message: messageOf(error) });
      else err.write(`failed  ${printable(pair.id)}: ${printable(messageOf(error))}\n`);
    }
  }
  for (const [side, files] of [['truth', matched.unmatchedTruth], ['prediction', matched.unmatchedPrediction]] as const) {
    for (const file of files) {
      if (options.json) emit({ type: 'unmatched', side, file });
      else err.write(`unmatched ${side}: ${printable(file)}\n`);
    }
  }
  const mean = scored.length > 0 ? meanMetrics(scored.map((s) => s.metrics)) : undefined;
  if (options.json) {
    if (mean) emit({ type: 'mean', images: scored.length, failed, metrics: mean });
  } else {
    out.write(table(scored.map((s) => [s.pair.id, s.metrics]), mean));
  }
  if (scored.length === 0) {
    if (failed === 0) err.write('unetflow evaluate: no prediction matched a ground-truth image (names must agree without their extension)\n');
    return 1;
  }
  return failed > 0 ? 1 : 0;
}

/** Pairs two files, or the images of two folders by name. */
async function match(truth: string, pred: string) {
  const t = await kindOf(truth, '--truth');
  const p = await kindOf(pred, '--pred');
  if (t !== p) throw new Error(`--truth is a ${t} but --pred a ${p}: give two files or two folders`);
  if (t === 'file') return { pairs: [{ id: stem(truth), truth, prediction: pred }], unmatchedTruth: [], unmatchedPrediction: [] };
  const [truths, predicted] = await Promise.all([listFiles({ dir: truth }), listFiles({ dir: pred })]);
  const predictions = new Map<string, string>();
  // An exact name wins over `<name>.mask`.
  for (const file of predicted) {
    const key = stem(file).replace(/\.mask$/, '');
    if (!predictions.has(key) || stem(file) === key) predictions.set(key, file);
  }
  const used = new Set<string>();
  const pairs: Pair[] = [];
  const unmatchedTruth: string[] = [];
  for (const file of truths) {
    const prediction = predictions.get(stem(file));
    if (prediction) {
      pairs.push({ id: stem(file), truth: file, prediction });
      used.add(prediction);
    } else unmatchedTruth.push(file);
  }
  const unmatchedPrediction = predicted.filter((f) => !used.has(f));
  return { pairs, unmatchedTruth, unmatchedPrediction };
}

async function kindOf(path: string, flag: string): Promise<'file' | 'folder'> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'folder' : 'file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${flag} ${path}: ${code === 'ENOENT' ? 'no such file or folder' : messageOf(error)}`, { cause: error });
  }
}

const stem = (path: string) => basename(path, extname(path));

/** Stacks with as many pages as their truth are scored page by page (`<name>.p<page>`). */
async function expandPages(pairs: Pair[]): Promise<Pair[]> {
  const out: Pair[] = [];
  for (const pair of pairs) {
    try {
      const [t, p] = await Promise.all([inspectImage(pair.truth, 'evaluate'), inspectImage(pair.prediction, 'evaluate')]);
      if (t.pages > 1 && t.pages === p.pages) {
        for (let page = 0; page < t.pages; page++) out.push({ ...pair, id: `${pair.id}.p${page}`, page });
        continue;
      }
    } catch {
      // Unreadable files fail in score(), with the reason, like every other image.
    }
    out.push(pair);
  }
  return out;
}

async function score(pair: Pair, threshold?: number): Promise<{ metrics: SegmentationMetrics; warnings: string[] }> {
  const truthInfo = await inspectImage(pair.truth, 'evaluate');
  const predInfo = await inspectImage(pair.prediction, 'evaluate');
  if (pair.page === undefined && truthInfo.pages > 1) {
    throw new Error(`the truth has ${truthInfo.pages} pages and the prediction ${predInfo.pages}: stacks must have as many pages`);
  }
  const truthPage = pair.page ?? 0;
  const predPage = pair.page ?? predictionPage(pair.prediction, predInfo);
  const truth = await readImage(pair.truth, truthPage, 'evaluate', truthInfo);
  const prediction = await readImage(pair.prediction, predPage, 'evaluate', predInfo);
  if (!sameSize(truth, prediction)) {
    throw new Error(`the truth is ${truth.width}x${truth.height} but the prediction ${prediction.width}x${prediction.height}`);
  }
  const named = (path: string, info: { pages: number }, page: number) => (info.pages > 1 ? `${path} (page ${page})` : path);
  const t = readForeground(truth, 'truth', named(pair.truth, truthInfo, truthPage));
  const p = readForeground(prediction, 'prediction', named(pair.prediction, predInfo, predPage), threshold);
  return {
    metrics: segmentationMetrics(t.foreground, p.foreground, truth.width, truth.height),
    warnings: [t.warning, p.warning].filter((w): w is string => w !== undefined),
  };
}

/** A single image, or the foreground page of two-class probabilities as `save` writes them (page 1). */
function predictionPage(path: string, info: { pages: number; dtype: string }): number {
  if (info.pages === 1) return 0;
  if (info.pages === 2 && info.dtype === 'float32') return 1;
  throw new Error(`the prediction ${path} has ${info.pages} pages: expected one mask, or two pages of class probabilities`);
}

const COLUMNS: [keyof SegmentationMetrics, string][] = [
  ['pixelError', 'pixel'],
  ['randError', 'rand'],
  ['adaptedRandError', 'adapted-rand'],
  ['viSplit', 'vi-split'],
  ['viMerge', 'vi-merge'],
  ['warpingError', 'warping'],
  ['splits', 'splits'],
  ['merges', 'merges'],
  ['iou', 'iou'],
  ['dice', 'dice'],
];

function table(rows: [string, SegmentationMetrics][], mean?: SegmentationMetrics): string {
  const cell = (name: keyof SegmentationMetrics, m: SegmentationMetrics, isMean: boolean) =>
    name === 'splits' || name === 'merges' ? (isMean ? m[name].toFixed(1) : String(m[name])) : m[name].toFixed(4);
  const lines = [['image', ...COLUMNS.map(([, h]) => h)]];
  for (const [id, m] of rows) lines.push([printable(id), ...COLUMNS.map(([n]) => cell(n, m, false))]);
  if (mean) lines.push([`mean (${rows.length})`, ...COLUMNS.map(([n]) => cell(n, mean, true))]);
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  return lines.map((l) => l.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')).join('\n') + '\n';
}
