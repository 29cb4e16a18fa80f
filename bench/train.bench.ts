/**
 * The 572 px training step (depth 4, valid, 2 classes, SGD momentum 0.99) on each
 * engine side by side in one run: ONNX Runtime's CPU provider running the whole step
 * as one graph (the default trainer where onnxruntime-node is installed; its operator
 * threads over every core) and tfjs-wasm (the fallback; one worker per core, the tile
 * split into row bands, and for 64 filters two bands per tile to fit the wasm heap),
 * batch 1 and 4, 16 and 64 filters. The PyTorch reference (2 threads, batch 1) is
 * unet.bench.ts's: bench/unet_reference.py in the same run where torch is installed,
 * else FINDINGS' figures, named as such. Batch-4 figures are per step (four tiles),
 * with no reference. Peak memory: the process's resident set sampled every 10 ms
 * during the measured steps (the engines run in this process and its worker threads).
 * Set UNET_TRAIN_BENCH_F64_WASM=0 to leave out the 64-filter wasm step (~40 s, ~8 GiB).
 */
import * as tf from '@tensorflow/tfjs';
import { medianSeconds, type Benchmark, type BenchResult } from './harness.js';
import { result } from './unet.bench.js';
import { defaultThreads, openTrainingRunner, useInferenceBackend } from '../src/model/engines/choice.js';
import { UNet } from '../src/model/network/unet.js';
import { Trainer } from '../src/model/training/trainer.js';

const INPUT = 572;
const OUTPUT = 388;
const repeats = Number(process.env.UNET_BENCH_REPEATS ?? 3);

/** Peak resident set while `fn` runs, sampled every 10 ms. */
async function peakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakMiB: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakMiB: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

function trainStep(filters: number, engine: 'onnxruntime' | 'wasm', batch: number): Benchmark {
  const name = `train-step-572-f${filters}${batch > 1 ? `-b${batch}` : ''}-${engine === 'wasm' ? 'tfjs-wasm' : engine}`;
  return {
    group: 'train',
    name,
    async run(): Promise<BenchResult[]> {
      if (engine === 'wasm' && filters > 32 && process.env.UNET_TRAIN_BENCH_F64_WASM === '0') return [];
      const backend = await useInferenceBackend(engine);
      const workers = defaultThreads(backend.info);
      const net = UNet.create({ depth: 4, baseFilters: filters, classes: 2, inputChannels: 1, padding: 'valid' }, 1);
      const options = { optimizer: { kind: 'sgd' as const, learningRate: 1e-3, momentum: 0.99 } };
      const trainer = new Trainer(net, options);
      const big = filters > 32;
      const tileParts = big && engine === 'wasm' ? 2 : 1;
      const images = tf.tidy(() => tf.randomUniform([batch * INPUT * INPUT], 0, 1, 'float32', 1).dataSync() as Float32Array);
      const labels = Int32Array.from({ length: batch * OUTPUT * OUTPUT }, (_, i) => (i % 7 < 3 ? 1 : 0));
      const step = { count: batch, inputSize: INPUT, images, labels, weights: new Float32Array(batch * OUTPUT * OUTPUT).fill(1) };
      const parameters: Record<string, unknown> = { backend: backend.info.package, workers, filters, input: INPUT, output: OUTPUT, batch, tileParts, optimizer: 'sgd momentum 0.99' };
      let runner;
      try {
        runner = await openTrainingRunner(trainer, options, backend, workers, tileParts, name);
        parameters.runs = runner.description;
        const reps = big || batch > 1 ? 1 : repeats;
        // The 64-filter wasm step runs once, without a warm-up: it takes ~40 s.
        const warmup = big && engine === 'wasm' ? 0 : 1;
        const { value: seconds, peakMiB } = await peakRss(() => medianSeconds(() => runner!.trainStep(step), reps, warmup));
        const described = { ...parameters, repeats: reps, warmup, peakRssMiB: peakMiB };
        return [batch === 1 ? await result(name, seconds, described, `unet-train-572-f${filters}`) : { name, value: seconds, unit: 's', parameters: described }];
      } catch (error) {
        const message = (error as Error).message?.split('\n')[0] ?? String(error);
        process.stderr.write(`${name}: could not run: ${message}\n`);
        return [{ name, value: NaN, unit: 's', parameters: { ...parameters, error: message } }];
      } finally {
        await runner?.close();
        trainer.dispose();
        net.dispose();
      }
    },
  };
}

// ONNX Runtime first, then wasm, whose worker heaps are the largest: each case's peak
// is then its own. 64 filters last.
export const benchmarks: Benchmark[] = [
  trainStep(16, 'onnxruntime', 1),
  trainStep(16, 'onnxruntime', 4),
  trainStep(16, 'wasm', 1),
  trainStep(16, 'wasm', 4),
  trainStep(64, 'onnxruntime', 1),
  trainStep(64, 'onnxruntime', 4),
  trainStep(64, 'wasm', 1),
];
