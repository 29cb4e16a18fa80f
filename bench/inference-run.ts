/**
 * Child process of inference.bench.ts, one case per process (a clean peak RSS, one
 * engine loaded). Two modes:
 *
 * - `--case 512|2048 --tile 572|auto --tta none|dihedral --backend NAME`: the shipped
 *   model's pipeline load -> mirror -> tile -> unet -> stitch -> watershed -> save
 *   (mask) over ISBI slices 20, 21, 22 (512²) or three 2048² mosaics of slices 00-15 (the
 *   count: UNETFLOW_BENCH_FILES), one file at a time after a warm-up file of that size (model load, session, first pass). Prints the median
 *   seconds per file from load to saved mask (the run's file-done figure), the peak RSS,
 *   the memory budget the tile size was chosen under, and the tiles per image.
 * - `--gflops --backend NAME`: FLOPs per second of the forward pass (flops.ts) on one
 *   tile of 700 px and of 572 px, beside the same engine on a large matrix product
 *   (ONNX Runtime: a 2048² MatMul session with the predictor's threads; tfjs: a
 *   [1024, 2048] x [2048, 2048] product as a 1x1 convolution on one engine, times the
 *   predictor's workers, each running its own). On wasm this reference came out below
 *   the U-Net's own rate (13 against 36 GFLOP/s, 2026-11-30): it is not yet a ceiling
 *   there, and the ratio is reported as measured.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { lastValueFrom, tap } from 'rxjs';
import * as tf from '@tensorflow/tfjs';
import { makeImage } from '../src/image/image.js';
import { readImage } from '../src/io/read.js';
import { encodeTiff } from '../src/io/tiff.js';
import { defaultThreads, openPredictor, plannedBudget, useInferenceBackend, type InferenceBackendChoice } from '../src/model/engines/choice.js';
import { forwardFlops, parameterCount } from '../src/model/network/flops.js';
import { floatValueInfo, model as onnxModel, node } from '../src/model/onnx/messages.js';
import { sessionOptions } from '../src/model/engines/onnxruntime.js';
import { loadModel } from '../src/model/store.js';
import { chooseTiles } from '../src/model/network/tile-size.js';
import { runPipeline } from '../src/pipeline/run.js';
import type { RunEvent } from '../src/events.js';
import { medianSeconds } from './harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const model = join(root, 'models/isbi2012-em');
const slices = join(root, '../shared/data/isbi2012/train/image');
const { values } = parseArgs({
  options: { case: { type: 'string' }, tile: { type: 'string' }, tta: { type: 'string' }, backend: { type: 'string' }, gflops: { type: 'boolean' } },
});
const backend = (values.backend ?? 'auto') as InferenceBackendChoice;

if (values.gflops) console.log(JSON.stringify(await gflops()));
else console.log(JSON.stringify(await pipelineCase(Number(values.case), values.tile ?? 'auto', values.tta ?? 'none')));
process.exit(0);

async function pipelineCase(size: number, tileSize: string, tta: string) {
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-inference-'));
  try {
    const slice = (i: number) => readImage(join(slices, `${String(i).padStart(2, '0')}.png`));
    const image = async (i: number) => (size === 512 ? slice(20 + i) : mosaic(await Promise.all(Array.from({ length: 16 }, (_, k) => slice((k + 5 * i) % 16)))));
    // The warm-up has the timed files' size: ONNX Runtime's first pass at a new size is slower (allocation, planning).
    await writeFile(join(dir, '0-warmup.tif'), encodeTiff([size === 512 ? await slice(19) : await image(3)], 'none'));
    // UNETFLOW_BENCH_FILES: timed files per case (slices 20, 21, ... or 2048² mosaics). @default 3
    const timed = Array.from({ length: Number(process.env.UNETFLOW_BENCH_FILES ?? 3) }, (_, k) => k);
    for (const i of timed) await writeFile(join(dir, `${i + 1}.tif`), encodeTiff([await image(i)], 'none'));
    const geometry = tileSize === 'auto' ? { model } : { model, input: Number(tileSize) };
    const definition = {
      version: 1,
      name: 'inference-bench',
      concurrency: 1,
      source: { files: dir },
      steps: [
        { load: { channels: 1 } },
        { mirror: geometry },
        { tile: geometry },
        { unet: { model, tta, backend } },
        { stitch: {} },
        { watershed: { class: 1, at: 0.1, seeds: 0.8, minSeedArea: 50 } },
        { save: { dir: join(dir, 'out'), outputs: ['mask'] } },
      ],
    };
    const seconds: number[] = [];
    const failures: string[] = [];
    let engine = '';
    await lastValueFrom(
      runPipeline(definition as never).pipe(
        tap((e: RunEvent) => {
          if (e.type === 'file-done' && !e.file.endsWith('0-warmup.tif')) seconds.push(e.seconds);
          if (e.type === 'file-failed') failures.push(`${e.file}: ${e.message}`);
          if (e.type === 'backend') engine = `${e.name} (${e.package}), ${e.workers} worker(s)`;
        }),
      ),
    );
    if (seconds.length !== timed.length) throw new Error(`${seconds.length} of ${timed.length} files done: ${failures.join('; ')}`);
    seconds.sort((a, b) => a - b);
    const { network } = { network: (await loadModel(model)).metadata.architecture };
    const budgetBytes = plannedBudget(backend, 4 * parameterCount(network));
    const choice = tileSize === 'auto' ? chooseTiles(size, size, { kind: 'auto', network, budgetBytes }) : undefined;
    return {
      seconds: seconds[Math.floor(seconds.length / 2)],
      files: seconds.length,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      budgetMiB: budgetBytes / 2 ** 20,
      tile: choice ? (choice.geometry as { input: number }).input : Number(tileSize),
      tiles: choice?.tiles,
      backend: engine,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A 2048² image of 4 x 4 slices, real EM texture throughout. */
async function mosaic(parts: Awaited<ReturnType<typeof readImage>>[]) {
  const side = 4 * 512;
  const data = new Uint8Array(side * side);
  parts.forEach((p, k) => {
    const [oy, ox] = [512 * Math.floor(k / 4), 512 * (k % 4)];
    for (let y = 0; y < 512; y++) data.set((p.data as Uint8Array).subarray(y * 512, (y + 1) * 512), (oy + y) * side + ox);
  });
  return makeImage(side, side, 1, 'uint8', data);
}

async function gflops() {
  const engine = await useInferenceBackend(backend);
  const { model: net } = await loadModel(model);
  const config = net.config;
  const workers = defaultThreads(engine.info);
  const predictor = await openPredictor(net, engine, workers, model);
  const forward: Record<string, number> = {};
  for (const size of [700, 572]) {
    const x = new Float32Array(size * size).map((_, i) => (i % 251) / 251);
    const s = await medianSeconds(() => predictor.predict(x, 1, size, 'none'), 3, 1);
    forward[size] = forwardFlops(config, size) / s / 1e9;
  }
  await predictor.close();
  const n = 2048;
  const a = new Float32Array(n * n).map((_, i) => (i % 97) / 97);
  let peak: number;
  if (engine.engine === 'onnxruntime') {
    const bytes = onnxModel(
      { name: 'matmul', nodes: [node('MatMul', 'mm', ['a', 'b'], ['c'])], initializers: [], inputs: [floatValueInfo('a', [n, n]), floatValueInfo('b', [n, n])], outputs: [floatValueInfo('c', [n, n])] },
      { name: 'bench', version: '1' },
    ).finish();
    const session = await engine.onnxruntime.createSession(bytes, sessionOptions(workers));
    const feeds = { a: engine.onnxruntime.floatTensor(a, [n, n]), b: engine.onnxruntime.floatTensor(a, [n, n]) };
    peak = (2 * n ** 3) / (await medianSeconds(() => session.run(feeds), 3, 1)) / 1e9;
    await session.release();
  } else {
    // The product as a 1x1 convolution ([32 x 32 pixels, n] x [n, n]): the engine's
    // convolution kernels (XNNPACK on wasm), which the U-Net runs on; tf.matMul is not.
    const rows = 32;
    const [x, w] = [tf.tensor4d(a.subarray(0, rows * rows * n), [1, rows, rows, n]), tf.tensor4d(a.subarray(0, n * n), [1, 1, n, n])];
    peak = (workers * 2 * rows * rows * n * n) / (await medianSeconds(() => tf.tidy(() => tf.conv2d(x, w, 1, 'valid').dataSync()), 3, 1)) / 1e9;
    tf.dispose([x, w]);
  }
  return { forward700: forward[700], forward572: forward[572], matmulPeak: peak, workers, backend: `${engine.info.name} (${engine.info.package})` };
}
