/**
 * Benchmark harness: each `bench/*.bench.ts` exports `benchmarks`, a list of named
 * cases; `npm run bench [-- --filter text]` runs them, prints a table and writes JSON
 * to bench/results/. Figures are medians of repeated runs, and every speed figure
 * that has a reference is reported with the reference measured in the same run.
 */
import os from 'node:os';

export interface BenchResult {
  /** Stable name, comparable across versions, e.g. `tile-stitch-4096-u16`. */
  name: string;
  value: number;
  unit: string;
  parameters?: Record<string, unknown>;
  /** Reference figure measured in the same run, and value / reference. */
  reference?: { name: string; value: number; ratio: number };
}

export interface Benchmark {
  /** Group used by --filter, e.g. `tiling`, `unet`. */
  group: string;
  name: string;
  run(): Promise<BenchResult[]>;
}

export function machine() {
  return {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Median seconds of `repeats` calls after `warmup` unmeasured ones. */
export async function medianSeconds(fn: () => unknown, repeats = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Peak resident set size of this process so far, MiB (Linux reports kilobytes). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
