/**
 * `npm start`'s job as a user runs it: `node bin/unetflow.js run pipelines/demo.yaml`
 * (three 512 px ISBI slices, 4 tiles of 572 px each, dihedral augmentation, batches of
 * 4, watershed, three outputs saved), once on the default engine (ONNX Runtime where
 * onnxruntime-node is installed) and once with `--backend wasm` (the fallback), one
 * after the other in the same bench run. Values are wall-clock seconds per slice of
 * the whole command (start-up and model load included), one run each: a run is already
 * three slices. The wasm entry has the ONNX Runtime figure as its reference.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Benchmark, BenchResult } from './harness.js';
import type { RunEvent } from '../src/events.js';

const SLICES = 3;

interface DemoRun {
  readonly seconds: number;
  readonly backend?: Extract<RunEvent, { type: 'backend' }>;
  readonly stats?: Extract<RunEvent, { type: 'stats' }>;
}

async function runDemo(backend?: string): Promise<DemoRun> {
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-demo-bench-'));
  const args = ['bin/unetflow.js', 'run', 'pipelines/demo.yaml', '--json', '--set', `steps.6.save.dir=${dir}`, ...(backend ? ['--backend', backend] : [])];
  try {
    const t0 = process.hrtime.bigint();
    const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 1 << 24 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as RunEvent);
    const find = <T extends RunEvent['type']>(type: T) => events.find((e): e is Extract<RunEvent, { type: T }> => e.type === type);
    const run = { seconds, backend: find('backend'), stats: find('stats') };
    if (run.stats?.done !== SLICES) throw new Error(`${run.stats?.done ?? 0} of ${SLICES} slices done, ${run.stats?.failed ?? '?'} failed`);
    return run;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function entry(name: string, run: DemoRun, reference?: BenchResult): BenchResult {
  const value = run.seconds / SLICES;
  return {
    name,
    value,
    unit: 's/slice',
    parameters: {
      command: 'node bin/unetflow.js run pipelines/demo.yaml',
      slices: SLICES,
      backend: run.backend && `${run.backend.name} (${run.backend.package}), ${run.backend.workers} worker(s)`,
      skipped: run.backend?.skipped,
      runSeconds: run.stats?.seconds,
      wallSeconds: run.seconds,
    },
    ...(reference && Number.isFinite(reference.value) ? { reference: { name: `${reference.name} (same run)`, value: reference.value, ratio: value / reference.value } } : {}),
  };
}

export const benchmarks: Benchmark[] = [
  {
    group: 'demo',
    name: 'demo-seconds-per-slice',
    async run() {
      const ort = await runDemo();
      const ortEntry = entry(`demo-seconds-per-slice-${ort.backend?.name ?? 'default'}`, ort);
      if (ort.backend?.name !== 'onnxruntime') process.stderr.write(`demo: the default engine is ${ort.backend?.name}, not ONNX Runtime (${ort.backend?.skipped.join('; ')})\n`);
      const wasm = await runDemo('wasm');
      return [ortEntry, entry('demo-seconds-per-slice-wasm', wasm, ort.backend?.name === 'onnxruntime' ? ortEntry : undefined)];
    },
  },
];
