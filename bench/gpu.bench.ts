/**
 * The GPU engines in one run (`npm run bench -- --filter gpu`): the shipped model's
 * 572 px forward pass, and a 512² demo slice (its four 572 px tiles in one batch, no
 * augmentation), on ONNX Runtime's WebGPU provider, on tfjs's WebGPU backend and on
 * ONNX Runtime's CPU provider, which is the reference. The adapter is named in the
 * parameters: on a software one (lavapipe: the CPU running GPU shaders) a figure is
 * the cost of a correctness run, not a GPU's speed, so each case runs once after one
 * warm-up (the slice without: its warm-up is the forward case's).
 */
import { adapterLine } from '../src/events.js';
import { openPredictor, useInferenceBackend, type InferenceBackend } from '../src/model/engines/choice.js';
import type { GpuAdapter } from '../src/model/engines/engine.js';
import { loadModel } from '../src/model/store.js';
import { medianSeconds, type Benchmark, type BenchResult } from './harness.js';

const MODEL = 'models/isbi2012-em';
const INPUT = 572;

function tiles(count: number): Float32Array {
  return Float32Array.from({ length: count * INPUT * INPUT }, (_, i) => 0.5 + 0.5 * Math.sin(i * 0.013) * Math.cos(i * 0.0007));
}

/** Median seconds of `count` tiles on `choice`, or the error that stopped it. */
async function timed(choice: 'onnxruntime-cpu' | 'onnxruntime-webgpu' | 'webgpu', count: number, repeats: number, warmup: number): Promise<{ seconds: number; backend: InferenceBackend } | Error> {
  try {
    const backend = await useInferenceBackend(choice);
    const { model } = await loadModel(MODEL); // after the switch: tfjs's webgpu holds its weights on the adapter
    const predictor = await openPredictor(model, backend, backend.engine === 'onnxruntime' ? 2 : 1, MODEL);
    const x = tiles(count);
    try {
      return { seconds: await medianSeconds(() => predictor.predict(x, count, INPUT, 'none'), repeats, warmup), backend };
    } finally {
      await predictor.close();
    }
  } catch (error) {
    return error as Error;
  }
}

function gpuCase(name: string, count: number): Benchmark {
  return {
    group: 'gpu',
    name,
    async run() {
      const probe = await useInferenceBackend('onnxruntime-webgpu').catch((error: Error) => error);
      if (probe instanceof Error) {
        process.stderr.write(`${name}: not run: ${probe.message.split('\n')[0]}\n`);
        return [];
      }
      const adapter = probe.info.adapter as GpuAdapter | undefined;
      const software = adapter?.software ?? false;
      const repeats = software ? 1 : 5;
      const warmup = software && count > 1 ? 0 : 1;
      const cpu = await timed('onnxruntime-cpu', count, repeats, 1);
      const reference = cpu instanceof Error ? undefined : cpu.seconds;
      const results: BenchResult[] = [];
      for (const [suffix, choice] of [['onnxruntime-webgpu', 'onnxruntime-webgpu'], ['tfjs-webgpu', 'webgpu']] as const) {
        const r = await timed(choice, count, repeats, warmup);
        const parameters = {
          model: MODEL,
          tiles: count,
          input: INPUT,
          tta: 'none',
          adapter: adapter ? adapterLine(adapter) : 'unknown',
          software,
          note: software ? 'software adapter (a CPU running GPU shaders): the cost of a correctness run, not a GPU speed' : 'hardware adapter',
          repeats,
          warmup,
          ...(r instanceof Error ? { error: r.message.split('\n')[0] } : {}),
        };
        const value = r instanceof Error ? NaN : r.seconds;
        results.push({
          name: `${name}-${suffix}`,
          value,
          unit: 's',
          parameters,
          ...(reference !== undefined && { reference: { name: 'onnxruntime-cpu 2 threads (same run)', value: reference, ratio: value / reference } }),
        });
      }
      if (reference !== undefined) results.push({ name: `${name}-onnxruntime-cpu`, value: reference, unit: 's', parameters: { model: MODEL, tiles: count, input: INPUT, threads: 2, repeats } });
      return results;
    },
  };
}

export const benchmarks: Benchmark[] = [gpuCase('gpu-forward-572-f16', 1), gpuCase('gpu-slice-512-4x572-f16', 4)];
