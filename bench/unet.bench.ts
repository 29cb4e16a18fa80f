/**
 * U-Net speed on the project's default backend (`auto`: tfjs-node where it installs,
 * else wasm with the registered gradient kernels), batch 1, depth 4, valid padding,
 * 1 input channel, 2 classes. Values are median seconds (comparable across versions).
 *
 * Reference: PyTorch 1.13 CPU (oneDNN, 2 threads) on this machine class, from
 * ../shared/FINDINGS.md — quoted, not measured in the same run, because torch is not
 * installed here; each result names it as `reference` with the ratio.
 */
import * as tf from '@tensorflow/tfjs';
import { medianSeconds, type Benchmark, type BenchResult } from './harness.js';
import { useBackend } from '../src/model/backend.js';
import { predictProbabilities } from '../src/model/predictor.js';
import { Trainer } from '../src/model/trainer.js';
import { UNet } from '../src/model/unet.js';

const INPUT = 572;
const OUTPUT = 388;
/** PyTorch 1.13 CPU figures from FINDINGS (seconds): not same-run measurements. */
const pytorch: Record<string, number> = {
  'unet-forward-572-f16': 0.22,
  'unet-train-572-f16': 0.51,
  'unet-forward-572-f64': 2.0,
  'unet-train-572-f64': 6.7,
};
const repeats = Number(process.env.UNET_BENCH_REPEATS ?? 3);

function input(count: number, size = INPUT): Float32Array {
  return tf.tidy(() => tf.randomUniform([count * size * size], 0, 1, 'float32', 1).dataSync() as Float32Array);
}

function result(name: string, value: number, parameters: Record<string, unknown>): BenchResult {
  const ref = pytorch[name];
  return {
    name,
    value,
    unit: 's',
    parameters,
    ...(ref !== undefined && Number.isFinite(value)
      ? { reference: { name: 'pytorch-1.13-cpu-2-threads (FINDINGS, not same-run)', value: ref, ratio: value / ref } }
      : {}),
  };
}

async function network(filters: number) {
  const backend = await useBackend('auto');
  const net = UNet.create({ depth: 4, baseFilters: filters, classes: 2, inputChannels: 1, padding: 'valid' }, 1);
  return { backend, net, parameters: { backend: backend.package, filters, input: INPUT, output: OUTPUT, batch: 1, threads: 1 } };
}

function forward(filters: number): Benchmark {
  const name = `unet-forward-572-f${filters}`;
  return {
    group: 'unet',
    name,
    async run() {
      const { net, parameters } = await network(filters);
      const x = input(1);
      try {
        const reps = filters > 32 ? 1 : repeats;
        const seconds = await medianSeconds(() => predictProbabilities(net, x, 1, INPUT), reps, filters > 32 ? 0 : 1);
        const out = [result(name, seconds, { ...parameters, repeats: reps })];
        if (filters === 16) out.push(...(await throughput(net, parameters)));
        return out;
      } catch (error) {
        return [failed(name, parameters, error)];
      } finally {
        net.dispose();
      }
    },
  };
}

/** Tiles per second at batch 2, and what that means for a 2048x2048 image (6 x 6 tiles of 388 px). */
async function throughput(net: UNet, parameters: Record<string, unknown>): Promise<BenchResult[]> {
  const batch = 2;
  const x = input(batch);
  const seconds = await medianSeconds(() => predictProbabilities(net, x, batch, INPUT), repeats, 1);
  const tilesPerSecond = batch / seconds;
  const tiles = Math.ceil(2048 / OUTPUT) ** 2;
  return [
    { name: 'unet-inference-tiles-per-s-572-f16', value: tilesPerSecond, unit: 'tiles/s', parameters: { ...parameters, batch } },
    { name: 'unet-inference-2048-f16', value: tiles / tilesPerSecond, unit: 's', parameters: { ...parameters, batch, tiles, derived: 'tiles / tiles-per-s' } },
  ];
}

function trainStep(filters: number): Benchmark {
  const name = `unet-train-572-f${filters}`;
  return {
    group: 'unet',
    name,
    async run() {
      const { net, parameters } = await network(filters);
      const trainer = new Trainer(net, { optimizer: { kind: 'sgd', learningRate: 1e-3, momentum: 0.99 } });
      const batch = { count: 1, inputSize: INPUT, images: input(1), labels: new Int32Array(OUTPUT * OUTPUT).fill(1), weights: new Float32Array(OUTPUT * OUTPUT).fill(1) };
      try {
        const reps = filters > 32 ? 1 : repeats;
        const seconds = await medianSeconds(() => trainer.trainStep(batch), reps, filters > 32 ? 0 : 1);
        return [result(name, seconds, { ...parameters, repeats: reps, optimizer: 'sgd momentum 0.99' })];
      } catch (error) {
        return [failed(name, parameters, error)];
      } finally {
        trainer.dispose();
        net.dispose();
      }
    },
  };
}

/** A case that could not run (e.g. the wasm heap's 4 GiB) is reported as NaN with the reason, not dropped. */
function failed(name: string, parameters: Record<string, unknown>, error: unknown): BenchResult {
  const message = (error as Error).message?.split('\n')[0] ?? String(error);
  process.stderr.write(`${name}: could not run: ${message}\n`);
  return { name, value: NaN, unit: 's', parameters: { ...parameters, error: message } };
}

// The 64-filter training step runs last: running out of wasm memory can leave the backend unusable.
export const benchmarks: Benchmark[] = [forward(16), trainStep(16), forward(64), trainStep(64)];
