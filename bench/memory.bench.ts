/**
 * Peak memory of the prediction pipeline on large images: the shipped model
 * (572 -> 388, ONNX Runtime where installed, tta none) on EM slices of 3000², 6000² and
 * 12000² px, each run in a fresh child process (prediction-memory.ts). Reported: peak
 * RSS, the bytes per pixel above the baseline (the peak once a 1000² image is done, in
 * the same run), and the seconds per image.
 *
 * The images are the fixture slice 00 mirrored out to the size (real EM texture, so the
 * watershed meets realistic cells). With UNETFLOW_BENCH_REFERENCE=<git ref> the same
 * cases also run on that commit's code (a `git archive` of it beside this checkout's
 * node_modules) as the reference, when free memory allows it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { makeImage, type DType, type Image } from '../src/image/image.js';
import { readImage } from '../src/io/read.js';
import { encodeTiff } from '../src/io/tiff.js';
import { mirrorPad } from '../src/kernels/mirror.js';
import type { Benchmark, BenchResult } from './harness.js';
import { referenceCheckout, referenceRef, repo } from './reference-checkout.js';

const child = join(repo, 'bench/prediction-memory.ts');

type Post = 'threshold' | 'watershed' | 'tile-threshold';
interface Case {
  readonly size: number;
  readonly dtype: 'uint8' | 'uint16';
  readonly post: Post;
}

const cases: Case[] = [
  { size: 3000, dtype: 'uint8', post: 'threshold' },
  { size: 6000, dtype: 'uint8', post: 'threshold' },
  { size: 12000, dtype: 'uint8', post: 'threshold' },
  { size: 6000, dtype: 'uint16', post: 'threshold' },
  { size: 6000, dtype: 'uint8', post: 'watershed' },
  { size: 6000, dtype: 'uint8', post: 'tile-threshold' },
];

interface Measured {
  readonly baselineMiB: number;
  readonly peakMiB: number;
  readonly seconds: number;
}

let scratch: string | undefined;
const scratchDir = () => {
  if (!scratch) {
    scratch = mkdtempSync(join(os.tmpdir(), 'unetflow-memory-bench-'));
    process.on('exit', () => rmSync(scratch!, { recursive: true, force: true }));
  }
  return scratch;
};

/** An uncompressed TIFF of the fixture slice mirrored out to size², made once per run. */
async function benchImage(size: number, dtype: DType): Promise<string> {
  const path = join(scratchDir(), `em-${size}-${dtype}.tif`);
  if (existsSync(path)) return path;
  const slice = await readImage(join(repo, 'fixtures/isbi2012/test/00.png'));
  let image: Image = mirrorPad(slice, { top: 0, left: 0, bottom: size - slice.height, right: size - slice.width });
  if (dtype === 'uint16') {
    const wide = new Uint16Array(image.data.length);
    for (let i = 0; i < wide.length; i++) wide[i] = image.data[i] * 257;
    image = makeImage(size, size, 1, 'uint16', wide);
  }
  writeFileSync(path, encodeTiff([image], 'none'));
  return path;
}

/** A run in a fresh process; one that dies says why and how far its memory had grown. */
function measure(image: string, post: Post, root = repo): Measured | { failed: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', child, '--image', image, '--post', post, '--root', root, '--tmp', scratchDir()], {
    encoding: 'utf8',
    cwd: repo,
    maxBuffer: 64 << 20,
  });
  if (run.status === 0) return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Measured;
  const peak = run.stderr.match(/^peak (\S+)$/gm)?.at(-1)?.slice(5);
  const reason = run.stderr.match(/FATAL ERROR: (.*)|^(\w*Error: .*)$/m)?.slice(1).find(Boolean) ?? `exit ${run.status ?? run.signal}`;
  return { failed: `${reason}${peak ? ` (peak ${Number(peak).toFixed(0)} MiB by then)` : ''}` };
}

const perPixel = (m: Measured, pixels: number) => ((m.peakMiB - m.baselineMiB) * 2 ** 20) / pixels;

export const benchmarks: Benchmark[] = cases.map(({ size, dtype, post }) => ({
  group: 'memory',
  name: `peak memory, ${size}x${size} ${dtype}, predict -> ${post}`,
  async run(): Promise<BenchResult[]> {
    const pixels = size * size;
    const image = await benchImage(size, dtype);
    const tag = `${size}-${dtype === 'uint8' ? 'u8' : 'u16'}${post === 'threshold' ? '' : `-${post}`}`;
    const now = measure(image, post);
    if ('failed' in now) throw new Error(`${size}² ${dtype} ${post}: ${now.failed}`);
    // The pre-change code held ~70 B/px; run it only where that fits in free memory.
    const fits = os.freemem() > 70 * pixels + 2 ** 31;
    const ran = referenceRef && fits ? measure(image, post, referenceCheckout()) : undefined;
    const before = ran && !('failed' in ran) ? ran : undefined;
    const reference = (name: string, value: number, ours: number) => (before ? { reference: { name: `${referenceRef} ${name}`, value, ratio: ours / value } } : {});
    const note = !referenceRef ? undefined : !fits ? 'skipped: not enough free memory' : ran && 'failed' in ran ? `failed: ${ran.failed}` : undefined;
    if (note) process.stderr.write(`  reference ${referenceRef}: ${note}\n`);
    const parameters = { size, dtype, post, baselineMiB: now.baselineMiB, ...(note ? { reference: note } : {}) };
    return [
      { name: `predict-peak-${tag}`, value: now.peakMiB, unit: 'MiB', parameters, ...reference('peak', before?.peakMiB ?? 0, now.peakMiB) },
      { name: `predict-bytes-per-pixel-${tag}`, value: perPixel(now, pixels), unit: 'B/px', parameters, ...reference('above baseline', before ? perPixel(before, pixels) : 0, perPixel(now, pixels)) },
      { name: `predict-seconds-${tag}`, value: now.seconds, unit: 's/image', parameters, ...reference('time', before?.seconds ?? 0, now.seconds) },
    ];
  },
}));
