/**
 * U-Net speed the way unetflow runs by default. Inference: backend `auto`, i.e. ONNX
 * Runtime's CPU provider threaded over every core where onnxruntime-node is installed
 * (else tfjs as below); entries suffixed `-tfjs-wasm` run the same case on the wasm
 * backend with one worker per core, side by side. Training: tfjs `auto` (tfjs-node
 * where it installs, else wasm with the registered gradient kernels) and `workers` =
 * every core on wasm / cpu. Batch 1, depth 4, valid padding, 1 input channel,
 * 2 classes. Values are median seconds (comparable across versions).
 *
 * On wasm, with one tile and several workers the tile is split into row bands (exact:
 * halo and pooling grid kept, see `bands` in src/model/network/geometry.ts); bands recompute
 * their halo, so two workers do ~1.33x the work of one tile at 572 px. Throughput
 * entries use batches of whole tiles, one per worker (at least two), with no such
 * overhead.
 *
 * Reference: PyTorch CPU (2 threads, batch 1) measured in the same run by
 * bench/unet_reference.py when python3 and torch are installed; otherwise the
 * PyTorch 1.13 figures of ../shared/FINDINGS.md, named as such.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { medianSeconds, type Benchmark, type BenchResult } from './harness.js';
import { adapterLine } from '../src/events.js';
import { defaultThreads, openPredictor, openStepRunner, useBackend, useInferenceBackend, type InferenceBackendChoice } from '../src/model/engines/choice.js';
import { Trainer } from '../src/model/training/trainer.js';
import { UNet } from '../src/model/network/unet.js';

const INPUT = 572;
const OUTPUT = 388;
/** PyTorch 1.13 CPU figures from FINDINGS (seconds), used when no same-run reference can run. */
const quoted: Record<string, number> = {
  'unet-forward-572-f16': 0.22,
  'unet-train-572-f16': 0.51,
  'unet-forward-572-f64': 2.0,
  'unet-train-572-f64': 6.7,
};
const repeats = Number(process.env.UNET_BENCH_REPEATS ?? 3);
/**
 * Bands per tile for the 64-filter training step: one 572 px tile does not fit the
 * wasm heap's 4 GiB, two bands of 380 rows (one per worker heap) do.
 */
const F64_TRAIN_TILE_PARTS = 2;

function input(count: number, size = INPUT): Float32Array {
  return tf.tidy(() => tf.randomUniform([count * size * size], 0, 1, 'float32', 1).dataSync() as Float32Array);
}

let sameRun: Promise<{ name: string; values: Record<string, number> } | undefined> | undefined;

/**
 * Runs the PyTorch reference once (all four cases) with the first interpreter that has
 * torch (`UNET_REFERENCE_PYTHON`, then `python3`, then Debian's /usr/bin/python3, which
 * a pyenv `python3` shadows); undefined, with a message, when none can.
 */
function reference() {
  sameRun ??= (async () => {
    const script = fileURLToPath(new URL('./unet_reference.py', import.meta.url));
    const pythons = [...new Set([process.env.UNET_REFERENCE_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p))];
    const reasons: string[] = [];
    for (const python of pythons) {
      try {
        const { stdout } = await promisify(execFile)(python, [script], { timeout: 900_000, maxBuffer: 1 << 20 });
        const parsed = JSON.parse(stdout.trim().split('\n').at(-1)!) as { skipped?: string; torch?: string; threads?: number; values?: Record<string, number> };
        if (parsed.values) return { name: `pytorch-${parsed.torch}-cpu-${parsed.threads}-threads (same run, ${python})`, values: parsed.values };
        reasons.push(`${python}: ${parsed.skipped}`);
      } catch (error) {
        reasons.push(`${python}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    process.stderr.write(`unet reference skipped (${reasons.join('; ')}); quoting FINDINGS' PyTorch 1.13 figures\n`);
    return undefined;
  })();
  return sameRun;
}

/** @param case_ the reference case, when `name` is a variant of one (another backend) */
export async function result(name: string, value: number, parameters: Record<string, unknown>, case_ = name): Promise<BenchResult> {
  const same = await reference();
  const ref = same?.values[case_] !== undefined
    ? { name: same.name, value: same.values[case_] }
    : quoted[case_] !== undefined
      ? { name: 'pytorch-1.13-cpu-2-threads (FINDINGS, not same-run)', value: quoted[case_] }
      : undefined;
  return {
    name,
    value,
    unit: 's',
    parameters,
    ...(ref && Number.isFinite(value) ? { reference: { ...ref, ratio: value / ref.value } } : {}),
  };
}

async function network(filters: number) {
  const backend = await useBackend('auto');
  const workers = defaultThreads(backend);
  const net = UNet.create({ depth: 4, baseFilters: filters, classes: 2, inputChannels: 1, padding: 'valid' }, 1);
  return { backend, workers, net, parameters: { backend: backend.package, workers, filters, input: INPUT, output: OUTPUT, batch: 1 } };
}

/**
 * A forward pass of one 572 px tile on `choice` (`auto`: the default inference path),
 * and for 16 filters the throughput. Entry names without a suffix are the default path.
 */
function forward(filters: number, choice: InferenceBackendChoice = 'auto'): Benchmark {
  const suffix = choice === 'auto' ? '' : choice === 'wasm' ? '-tfjs-wasm' : `-${choice}`;
  const name = `unet-forward-572-f${filters}${suffix}`;
  return {
    group: 'unet',
    name,
    async run() {
      const engine = await useInferenceBackend(choice);
      const workers = defaultThreads(engine.info);
      const net = UNet.create({ depth: 4, baseFilters: filters, classes: 2, inputChannels: 1, padding: 'valid' }, 1);
      const parameters = { backend: engine.info.package, workers, filters, input: INPUT, output: OUTPUT, batch: 1 };
      const x = input(1);
      const big = filters > 32;
      let predictor;
      try {
        predictor = await openPredictor(net, engine, workers, name);
        const reps = big ? 1 : repeats;
        const seconds = await medianSeconds(() => predictor!.predict(x, 1, INPUT, 'none'), reps, 1);
        const split = engine.engine === 'tfjs' && workers > 1 ? 'row bands' : 'none';
        const out = [await result(name, seconds, { ...parameters, repeats: reps, runs: predictor.description, split }, `unet-forward-572-f${filters}`)];
        if (!big) out.push(...(await throughput((batch, count) => predictor!.predict(batch, count, INPUT, 'none'), workers, suffix, { ...parameters, runs: predictor.description })));
        return out;
      } catch (error) {
        return [failed(name, parameters, error)];
      } finally {
        await predictor?.close();
      }
    },
  };
}

/** Tiles per second with one whole tile per worker, and what that means for a 2048x2048 image (6 x 6 tiles of 388 px). */
async function throughput(predict: (tiles: Float32Array, count: number) => Promise<unknown>, workers: number, suffix: string, parameters: Record<string, unknown>): Promise<BenchResult[]> {
  const batch = Math.max(2, workers);
  const tiles = input(batch); // drawn once: random numbers are not what is measured
  const seconds = await medianSeconds(() => predict(tiles, batch), repeats, 1);
  const tilesPerSecond = batch / seconds;
  const perImage = Math.ceil(2048 / OUTPUT) ** 2;
  return [
    { name: `unet-inference-tiles-per-s-572-f16${suffix}`, value: tilesPerSecond, unit: 'tiles/s', parameters: { ...parameters, batch } },
    { name: `unet-inference-2048-f16${suffix}`, value: perImage / tilesPerSecond, unit: 's', parameters: { ...parameters, batch, tiles: perImage, derived: 'tiles / tiles-per-s' } },
  ];
}

function trainStep(filters: number): Benchmark {
  const name = `unet-train-572-f${filters}`;
  return {
    group: 'unet',
    name,
    async run() {
      const { backend, workers, net, parameters } = await network(filters);
      const options = { optimizer: { kind: 'sgd' as const, learningRate: 1e-3, momentum: 0.99 } };
      const trainer = new Trainer(net, options);
      const big = filters > 32;
      const tileParts = big && backend.name === 'wasm' ? F64_TRAIN_TILE_PARTS : 1;
      const runner = await openStepRunner(trainer, options, backend, workers, tileParts);
      const batch = { count: 1, inputSize: INPUT, images: input(1), labels: new Int32Array(OUTPUT * OUTPUT).fill(1), weights: new Float32Array(OUTPUT * OUTPUT).fill(1) };
      const described = { ...parameters, runs: runner.description, tileParts, optimizer: 'sgd momentum 0.99' };
      try {
        const reps = big ? 1 : repeats;
        const seconds = await medianSeconds(() => runner.trainStep(batch), reps, big ? 0 : 1);
        return [await result(name, seconds, { ...described, repeats: reps, ...(big ? { warmup: 0 } : {}) })];
      } catch (error) {
        return [failed(name, described, error)];
      } finally {
        await runner.close();
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

/**
 * The 16-filter forward pass or training step on WebGPU, in-process (one device), where
 * Dawn finds an adapter; none where it finds none. The adapter is named in the
 * parameters: on a software one (lavapipe: the CPU running GPU shaders) a figure is a
 * correctness run's cost, not a GPU's speed, and the cases run once (the forward pass
 * after one warm-up for shader compilation; the training step without, so that it fits
 * in a couple of minutes: its figure includes compiling). The reference is the same
 * case on wasm in this thread, measured in the same run and as often (first: tfjs
 * cannot move webgpu tensors back synchronously).
 */
function onWebGpu(kind: 'forward' | 'train'): Benchmark {
  const name = `unet-${kind}-572-f16-webgpu`;
  return {
    group: 'unet',
    name,
    async run() {
      const config = { depth: 4, baseFilters: 16, classes: 2, inputChannels: 1, padding: 'valid' } as const;
      const x = input(1);
      const batch = { count: 1, inputSize: INPUT, images: x, labels: new Int32Array(OUTPUT * OUTPUT).fill(1), weights: new Float32Array(OUTPUT * OUTPUT).fill(1) };
      const options = { optimizer: { kind: 'sgd' as const, learningRate: 1e-3, momentum: 0.99 } };
      const timed = async (choice: 'wasm' | 'webgpu', reps: number, warmup: number) => {
        const backend = await useBackend(choice);
        const net = UNet.create(config, 1);
        if (kind === 'forward') {
          const predictor = await openPredictor(net, { engine: 'tfjs', info: backend }, 1, name);
          try {
            return await medianSeconds(() => predictor.predict(x, 1, INPUT, 'none'), reps, warmup);
          } finally {
            await predictor.close();
          }
        }
        const trainer = new Trainer(net, options);
        const runner = await openStepRunner(trainer, options, backend, 1);
        try {
          return await medianSeconds(() => runner.trainStep(batch), reps, warmup);
        } finally {
          await runner.close();
          trainer.dispose();
          net.dispose();
        }
      };
      const adapter = await useBackend('webgpu').then((b) => b.adapter!, (error: Error) => error);
      if (adapter instanceof Error) {
        process.stderr.write(`${name}: not run: ${adapter.message.split('\n')[0]}\n`);
        return [];
      }
      const reps = adapter.software ? 1 : repeats;
      const warmup = adapter.software && kind === 'train' ? 0 : 1;
      const wasm = await timed('wasm', reps, warmup);
      const parameters = { backend: '@tensorflow/tfjs-backend-webgpu', adapter: adapterLine(adapter), software: adapter.software, workers: 1, filters: 16, input: INPUT, output: OUTPUT, batch: 1, repeats: reps, warmup };
      try {
        const seconds = await timed('webgpu', reps, warmup);
        return [{ name, value: seconds, unit: 's', parameters, reference: { name: 'tfjs-wasm-in-process (same run)', value: wasm, ratio: seconds / wasm } }];
      } catch (error) {
        return [failed(name, parameters, error)];
      } finally {
        await useBackend('wasm');
      }
    },
  };
}

// The 64-filter training step runs last: running out of wasm memory can leave a backend unusable.
export const benchmarks: Benchmark[] = [
  forward(16),
  forward(16, 'wasm'),
  trainStep(16),
  onWebGpu('forward'),
  onWebGpu('train'),
  forward(64),
  forward(64, 'wasm'),
  trainStep(64),
];
