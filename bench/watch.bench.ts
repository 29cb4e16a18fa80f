/**
 * Watch mode under a burst: 1,000 files land at once in a watched folder; the run
 * must process each exactly once with bounded memory. Reports files/s and the peak
 * RSS above the start-up baseline (a child process, so the figure is the run's own),
 * beside the same pipeline over the same files as a plain `files` batch run.
 *
 * With UNETFLOW_BENCH_REFERENCE=<git ref> the same watch burst also runs on that
 * commit's code (what a change to the sources, the ledger or the input checks costs):
 * three runs each, alternating (now, ref, ref, now, now, ref) so that drift in a shared
 * machine's load falls on both, and their medians side by side.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Benchmark, BenchResult } from './harness.js';
import { referenceCheckout, referenceRef, repo } from './reference-checkout.js';

interface Burst {
  seconds: number;
  peakAboveBaselineMiB: number;
  done: number;
}

function child(mode: 'watch' | 'files', root = repo): Burst {
  const script = join(root, 'bench/watch-burst.ts');
  const burst = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', script, mode, '1000'], { encoding: 'utf8', cwd: root })) as Burst;
  if (burst.done !== 1000) throw new Error(`${mode}${root === repo ? '' : ` (${referenceRef})`}: expected 1000 done, got ${burst.done}`);
  return burst;
}

const params = { files: 1000, image: '128x128 uint8 PNG', pipeline: 'load -> mirror -> tile -> stitch -> save', concurrency: 2 };

function againstReference(): BenchResult[] {
  const order = ['now', 'ref', 'ref', 'now', 'now', 'ref'] as const;
  const runs = order.map((code) => ({ code, ...child('watch', code === 'now' ? repo : referenceCheckout()) }));
  const median = (code: 'now' | 'ref') => runs.filter((r) => r.code === code).sort((a, b) => a.seconds - b.seconds)[1];
  const [now, ref] = [median('now'), median('ref')];
  return [
    {
      name: 'watch-burst-1000-files-per-s-vs-reference',
      value: 1000 / now.seconds,
      unit: 'files/s',
      parameters: { ...params, runs: runs.map((r) => ({ code: r.code, seconds: +r.seconds.toFixed(2) })) },
      reference: { name: `the same watch burst on ${referenceRef}`, value: 1000 / ref.seconds, ratio: ref.seconds / now.seconds },
    },
  ];
}

export const benchmarks: Benchmark[] = [
  {
    group: 'watch',
    name: 'burst of 1,000 files into a watched folder',
    async run() {
      const batch = child('files');
      const watch = child('watch');
      return [
        {
          name: 'watch-burst-1000-files-per-s',
          value: 1000 / watch.seconds,
          unit: 'files/s',
          parameters: params,
          reference: { name: 'same files as a batch run', value: 1000 / batch.seconds, ratio: batch.seconds / watch.seconds },
        },
        {
          name: 'watch-burst-1000-peak-rss',
          value: watch.peakAboveBaselineMiB,
          unit: 'MiB above baseline',
          parameters: params,
          reference: { name: 'batch run', value: batch.peakAboveBaselineMiB, ratio: watch.peakAboveBaselineMiB / batch.peakAboveBaselineMiB },
        },
        ...(referenceRef ? againstReference() : []),
      ];
    },
  },
];
