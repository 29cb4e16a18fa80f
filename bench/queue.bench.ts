/**
 * Scale-out through the queue (docs/scaling-out.md), measured through the binary with a
 * real redis-server on loopback, each figure beside a reference from the same run:
 * - per-job overhead: load+save of 1,000 small PNGs through a producer and one worker,
 *   against the same pipeline run in-process (both timed by their `stats` event, so
 *   process start-up is left out; the worker is started and waiting beforehand);
 * - throughput segmenting 512² ISBI 2012 slices (the shipped model, no TTA) with one
 *   and with two workers, against the in-process run (medians of three rounds). On a 2-core machine two workers
 *   share the cores that one ONNX Runtime session already uses: the figure says what
 *   a second process costs or gains here, not what a second machine would give.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Benchmark } from './harness.js';
import { tempDir, writePng } from '../test/helpers/files.js';
import { RedisServer } from '../test/helpers/redis.js';
import { events, startCli } from '../test/helpers/queue-project.js';

const SLICES = 8;
const SMALL = 1000;
const ROUNDS = 3;

function middle(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

interface Timed {
  /** `stats.seconds`: from the run's start to its last file. */
  readonly seconds: number;
  /** From the first file done to the last: the steady rate, without loading models. */
  readonly steadySeconds: number;
}

/** Times a `run --json`, checking every file was done. */
async function runTimed(args: string[], expected: number): Promise<Timed> {
  const c = startCli(['run', ...args, '--json']);
  const doneAt: number[] = [];
  c.child.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.includes('"type":"file-done"')) doneAt.push(performance.now());
  });
  const code = await c.exit;
  const stats = events(c).find((e) => e.type === 'stats') as { done: number; seconds: number } | undefined;
  if (code !== 0 || stats?.done !== expected) throw new Error(`run ${args.join(' ')}: exit ${code}, ${stats?.done} done of ${expected}\n${c.stderr}`);
  return { seconds: stats.seconds, steadySeconds: ((doneAt.at(-1)! - doneAt[0]) / 1000) * (expected / (expected - 1)) };
}

const runSeconds = async (args: string[], expected: number) => (await runTimed(args, expected)).seconds;

/** The producer's time with `workers` workers started beforehand (then stopped with SIGTERM). */
async function queuedTimed(pipeline: string, url: string, workers: number, expected: number, workerArgs: string[] = []): Promise<Timed> {
  const started = Array.from({ length: workers }, () => startCli(['worker', pipeline, '--queue', url, ...workerArgs]));
  await Promise.all(started.map((w) => w.waitFor(/taking jobs of/)));
  try {
    return await runTimed([pipeline, '--queue', url], expected);
  } finally {
    for (const w of started) w.child.kill('SIGTERM');
    await Promise.all(started.map((w) => w.exit));
  }
}

export const benchmarks: Benchmark[] = [
  {
    group: 'queue',
    name: 'per-job overhead: load+save of 1,000 small files through Redis',
    async run() {
      const redis = await RedisServer.start();
      try {
        const dir = await tempDir('unetflow-bench-queue-');
        await mkdir(join(dir, 'in'));
        for (let i = 0; i < SMALL; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => writePng(join(dir, 'in', `f${String(i + j).padStart(4, '0')}.png`), i + j + 1, 64)));
        const steps = 'steps:\n  - load: {}\n  - save: { dir: out, outputs: [image] }\n';
        await writeFile(join(dir, 'local.yaml'), `version: 1\nname: local\nsource: { files: in }\n${steps}`);
        await writeFile(join(dir, 'queued.yaml'), `version: 1\nname: overhead\nsource: { files: in }\nsteps:\n  - load: {}\n  - save: { dir: out-q, outputs: [image] }\n`);
        const local = await runSeconds([join(dir, 'local.yaml')], SMALL);
        const queued = (await queuedTimed(join(dir, 'queued.yaml'), redis.url, 1, SMALL)).seconds;
        const params = { files: SMALL, image: '64x64 uint8 PNG', pipeline: 'load -> save', workers: 1, concurrency: 2, redis: 'redis-server 7.0 on loopback' };
        return [
          {
            name: 'queue-overhead-ms-per-job',
            value: ((queued - local) / SMALL) * 1000,
            unit: 'ms/job',
            parameters: params,
            reference: { name: 'in-process run, ms per file', value: (local / SMALL) * 1000, ratio: queued / local },
          },
        ];
      } finally {
        await redis.stop();
      }
    },
  },
  {
    group: 'queue',
    name: `segmenting ${SLICES} 512x512 slices with 1 and 2 workers`,
    async run() {
      const redis = await RedisServer.start();
      try {
        const dir = await tempDir('unetflow-bench-queue-seg-');
        await mkdir(join(dir, 'in'));
        const slices = resolve('../shared/data/isbi2012/train/image');
        for (let i = 0; i < SLICES; i++) await copyFile(join(slices, `${String(i).padStart(2, '0')}.png`), join(dir, 'in', `${String(i).padStart(2, '0')}.png`));
        const model = resolve('models/isbi2012-em');
        const pipeline = (name: string, out: string) =>
          `version: 1\nname: ${name}\nconcurrency: 1\nsource: { files: in }\nsteps:\n  - load: { channels: 1 }\n  - mirror: { model: ${model} }\n  - tile: { model: ${model} }\n  - unet: { model: ${model} }\n  - stitch: {}\n  - threshold: {}\n  - save: { dir: ${out}, outputs: [mask] }\n`;
        // Three rounds, the three set-ups in turn within each (a noisy shared host drifts), each
        // case's median kept; every queued round uses a fresh queue, so nothing is in its ledger.
        const rounds: { local: Timed; one: Timed; two: Timed }[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          for (const name of ['one', 'two']) await writeFile(join(dir, `${name}.yaml`), pipeline(`seg-${name}-${round}`, `out-${name}-${round}`));
          await writeFile(join(dir, 'local.yaml'), pipeline('seg-local', `out-local-${round}`));
          rounds.push({
            local: await runTimed([join(dir, 'local.yaml')], SLICES),
            one: await queuedTimed(join(dir, 'one.yaml'), redis.url, 1, SLICES),
            two: await queuedTimed(join(dir, 'two.yaml'), redis.url, 2, SLICES),
          });
        }
        const median = (pick: (r: (typeof rounds)[number]) => Timed): Timed => ({
          seconds: middle(rounds.map((r) => pick(r).seconds)),
          steadySeconds: middle(rounds.map((r) => pick(r).steadySeconds)),
        });
        const [local, one, two] = [median((r) => r.local), median((r) => r.one), median((r) => r.two)];
        // Steady rates (first file done to last, scaled to every file): a worker loads its model once, with its first job.
        const params = { slices: SLICES, size: '512x512', model: 'models/isbi2012-em', tta: 'none', concurrency: 1, backend: 'auto', timed: `first file done to last, median of ${ROUNDS} rounds`, inProcessTotalSeconds: local.seconds };
        const reference = { name: 'in-process run', value: SLICES / local.steadySeconds };
        const rate = (t: Timed) => SLICES / t.steadySeconds;
        return [
          { name: 'queue-segment-1-worker-slices-per-s', value: rate(one), unit: 'slices/s', parameters: { ...params, workers: 1, totalSeconds: one.seconds }, reference: { ...reference, ratio: local.steadySeconds / one.steadySeconds } },
          { name: 'queue-segment-2-workers-slices-per-s', value: rate(two), unit: 'slices/s', parameters: { ...params, workers: 2, totalSeconds: two.seconds }, reference: { ...reference, ratio: local.steadySeconds / two.steadySeconds } },
        ];
      } finally {
        await redis.stop();
      }
    },
  },
];
