/**
 * The paper's 64-filter network (31 M parameters, random weights) predicting a batch
 * of 4 tiles of 572 px with dihedral augmentation (32 forward passes) on the wasm
 * backend, with the default worker pool, as the unet step would: without the engines' memory
 * budget this overran the 4 GiB wasm heap. Reports seconds for the batch and the peak
 * resident memory of the process (workers included), measured in a child process so
 * that nothing else the bench ran counts. Minutes on 2 cores: run it with
 * `npm run bench -- --filter wasm-heap`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { Benchmark } from './harness.js';
import { defaultThreads, openPredictor, useBackend } from '../src/model/engines/choice.js';
import { UNet } from '../src/model/network/unet.js';

const SIZE = 572;
const TILES = 4;

/** The measurement itself, in the child. */
async function measure(): Promise<void> {
  const backend = await useBackend('wasm');
  const workers = defaultThreads(backend);
  const net = UNet.create({ depth: 4, baseFilters: 64 }, 1);
  const images = tf.tidy(() => tf.randomUniform([TILES * SIZE * SIZE], 0, 1, 'float32', 2).dataSync() as Float32Array);
  const predictor = await openPredictor(net, { engine: 'tfjs', info: backend }, workers, 'wasm-heap');
  try {
    const t0 = process.hrtime.bigint();
    const out = await predictor.predict(images, TILES, SIZE, 'dihedral');
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (out.length !== TILES * 388 * 388 * 2 || !out.every(Number.isFinite)) throw new Error('the prediction has the wrong size or non-finite values');
    console.log(JSON.stringify({ seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, runs: predictor.description }));
  } finally {
    await predictor.close();
  }
}

if (process.argv[2] === '--child') {
  await measure();
}

export const benchmarks: Benchmark[] = [
  {
    group: 'wasm-heap',
    name: 'unet-predict-572-f64-dihedral-batch4-tfjs-wasm',
    async run() {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child'], { maxBuffer: 1 << 20 });
      const { seconds, peakRssMiB, runs } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { seconds: number; peakRssMiB: number; runs: string };
      const parameters = { filters: 64, input: SIZE, output: 388, tiles: TILES, tta: 'dihedral', passes: 8 * TILES, runs };
      return [
        { name: 'unet-predict-572-f64-dihedral-batch4-tfjs-wasm', value: seconds, unit: 's', parameters },
        { name: 'unet-predict-572-f64-dihedral-batch4-tfjs-wasm-peak-rss', value: peakRssMiB, unit: 'MiB', parameters },
      ];
    },
  },
];
