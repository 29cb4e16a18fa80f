/**
 * Inference as `unetflow run` does it, with tile sizes chosen per image (`tile: { size:
 * auto }`, the default) against the fixed 572 px tiles the shipped model was trained on,
 * in the same run: the shipped 16-filter model, load -> mirror -> tile -> unet ->
 * stitch -> watershed -> save (mask), seconds per image from load to saved mask.
 * Cases: 512² ISBI slices with dihedral TTA and without, 2048² images without (and its
 * peak RSS, with the budget the tile size was chosen under); per backend, the forward
 * pass's GFLOP/s (flops.ts) beside the same engine's on a large matrix product; on the
 * default backend, watch mode's latency from a file landing to its mask being written,
 * beyond stableMs.
 *
 * Every inference backend that loads here runs, one child process per case
 * (inference-run.ts): each of inferenceBackendChoices but `auto` and `cpu` (20-200x
 * slower than wasm), so a backend added there (webgpu) is benched too.
 * UNETFLOW_BENCH_BACKENDS=onnxruntime,wasm picks some.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inferenceBackendChoices } from '../src/model/engines/choice.js';
import type { Benchmark, BenchResult } from './harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const child = join(root, 'bench/inference-run.ts');

interface CaseResult {
  seconds: number;
  files: number;
  peakRssMiB: number;
  budgetMiB: number;
  tile: number;
  tiles?: number;
  backend: string;
}

async function run(args: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child, ...args], { cwd: root, maxBuffer: 1 << 24, timeout: 1_800_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/** ONNX Runtime (the default engine where installed) first, then tfjs's backends in the order `auto` tries them. */
function backends(): string[] {
  const wanted = process.env.UNETFLOW_BENCH_BACKENDS?.split(',');
  const all = inferenceBackendChoices.filter((c) => c !== 'auto' && c !== 'cpu' && (!wanted || wanted.includes(c)));
  return [...all.filter((c) => c === 'onnxruntime'), ...all.filter((c) => c !== 'onnxruntime')];
}

const cases = [
  { name: '512-dihedral', size: 512, tta: 'dihedral' },
  { name: '512-none', size: 512, tta: 'none' },
  { name: '2048-none', size: 2048, tta: 'none' },
] as const;

async function benchBackend(backend: string): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const c of cases) {
    const fixed = (await run(['--case', String(c.size), '--tile', '572', '--tta', c.tta, '--backend', backend])) as CaseResult;
    const auto = (await run(['--case', String(c.size), '--tile', 'auto', '--tta', c.tta, '--backend', backend])) as CaseResult;
    const parameters = { image: `${c.size}²`, tta: c.tta, backend: auto.backend, tile: `${auto.tile} px, ${auto.tiles} per image`, budgetMiB: auto.budgetMiB, files: auto.files };
    out.push({
      name: `inference-${c.name}-${backend}`,
      value: auto.seconds,
      unit: 's/image',
      parameters,
      reference: { name: 'fixed 572 px tiles (same run)', value: fixed.seconds, ratio: auto.seconds / fixed.seconds },
    });
    if (c.size === 2048) {
      out.push({
        name: `inference-2048-peak-rss-${backend}`,
        value: auto.peakRssMiB,
        unit: 'MiB',
        parameters: { ...parameters, note: 'peak RSS of the process: model, engine, the warm-up and timed 2048² images one after the other' },
        reference: { name: 'fixed 572 px tiles (same run)', value: fixed.peakRssMiB, ratio: auto.peakRssMiB / fixed.peakRssMiB },
      });
    }
  }
  const g = (await run(['--gflops', '--backend', backend])) as { forward700: number; forward572: number; matmulPeak: number; workers: number; backend: string };
  for (const size of [700, 572] as const) {
    const value = size === 700 ? g.forward700 : g.forward572;
    out.push({
      name: `inference-gflops-${size}-${backend}`,
      value,
      unit: 'GFLOP/s',
      parameters: { backend: g.backend, workers: g.workers, tile: `${size} px, batch 1, no TTA`, flops: 'counted from the layers, 2 per multiply-add' },
      reference: { name: 'the same engine on a large matrix product (same run)', value: g.matmulPeak, ratio: value / g.matmulPeak },
    });
  }
  return out;
}

export const benchmarks: Benchmark[] = [
  {
    group: 'inference',
    name: 'inference: tile sizes chosen per image vs fixed 572 px tiles, per backend',
    async run() {
      const out: BenchResult[] = [];
      for (const backend of backends()) {
        try {
          out.push(...(await benchBackend(backend)));
        } catch (error) {
          const lines = (error as Error).message.split('\n');
          process.stderr.write(`inference: backend ${backend} skipped: ${lines.find((l) => /Error:/.test(l)) ?? lines[0]}\n`);
        }
      }
      return out;
    },
  },
  {
    group: 'inference',
    name: 'inference-watch-latency',
    async run() {
      const [auto, fixed] = [await watchLatency('auto'), await watchLatency('572')];
      return [
        {
          name: 'inference-watch-latency-512-dihedral',
          value: auto.seconds,
          unit: 's beyond stableMs',
          parameters: { image: '512²', tta: 'dihedral', stableMs: auto.stableMs, files: auto.files, backend: 'default (auto)' },
          reference: { name: 'fixed 572 px tiles (same run)', value: fixed.seconds, ratio: auto.seconds / fixed.seconds },
        },
      ];
    },
  },
];

/**
 * `unetflow run` in watch mode on an empty folder; ISBI slices 19-24 copied in one at a
 * time once it watches (19 a warm-up that loads the model), each after the last one's mask is written. Median of the time
 * from the copy to the mask, less stableMs.
 */
async function watchLatency(tile: string): Promise<{ seconds: number; stableMs: number; files: number }> {
  const stableMs = 1000;
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-watch-latency-'));
  const model = join(root, 'models/isbi2012-em');
  const geometry = tile === 'auto' ? `{ model: ${model} }` : `{ model: ${model}, input: ${tile} }`;
  const pipeline = join(dir, 'watch.yaml');
  await writeFile(
    pipeline,
    [
      'version: 1',
      'name: watch-latency',
      'concurrency: 2',
      `source: { watch: { dir: ${join(dir, 'in')}, stableMs: ${stableMs} } }`,
      'steps:',
      '  - load: { channels: 1 }',
      `  - mirror: ${geometry}`,
      `  - tile: ${geometry}`,
      `  - unet: { model: ${model}, tta: dihedral }`,
      '  - stitch: {}',
      '  - watershed: { class: 1, at: 0.1, seeds: 0.8, minSeedArea: 50 }',
      `  - save: { dir: ${join(dir, 'out')}, outputs: [mask] }`,
    ].join('\n'),
  );
  await mkdir(join(dir, 'in'));
  const proc = spawn(process.execPath, [join(root, 'bin/unetflow.js'), 'run', pipeline, '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      // Logged once the folder is watched (and its files, none here, emitted).
      proc.stdout.on('data', (d: Buffer) => String(d).includes('"message":"watching ') && resolve());
      proc.on('exit', (code) => reject(new Error(`watch run exited with ${code}`)));
    });
    const latencies: number[] = [];
    // The first file also loads the model: a warm-up, not measured.
    for (const i of [19, 20, 21, 22, 23, 24]) {
      const name = `${i}.png`;
      const t0 = performance.now();
      await copyFile(join(root, '../shared/data/isbi2012/train/image', name), join(dir, 'in', name));
      const mask = join(dir, 'out', `${i}.mask.png`);
      for (;;) {
        if (await stat(mask).then(() => true, () => false)) break;
        if (performance.now() - t0 > 600_000) throw new Error(`no mask for ${name} after 10 minutes`);
        await new Promise((r) => setTimeout(r, 10));
      }
      if (i !== 19) latencies.push((performance.now() - t0 - stableMs) / 1000);
    }
    latencies.sort((a, b) => a - b);
    return { seconds: latencies[Math.floor(latencies.length / 2)], stableMs, files: latencies.length };
  } finally {
    proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}
