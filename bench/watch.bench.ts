/**
 * Watch mode under a burst: 1,000 files land at once in a watched folder; the run
 * must process each exactly once with bounded memory. Reports files/s and the peak
 * RSS above the start-up baseline (a child process, so the figure is the run's own),
 * beside the same pipeline over the same files as a plain `files` batch run.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark } from './harness.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'watch-burst.ts');

function child(mode: 'watch' | 'files'): { seconds: number; peakAboveBaselineMiB: number; done: number } {
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', script, mode, '1000'], { encoding: 'utf8' }));
}

export const benchmarks: Benchmark[] = [
  {
    group: 'watch',
    name: 'burst of 1,000 files into a watched folder',
    async run() {
      const batch = child('files');
      const watch = child('watch');
      if (watch.done !== 1000 || batch.done !== 1000) throw new Error(`expected 1000 done, got watch ${watch.done}, batch ${batch.done}`);
      const params = { files: 1000, image: '128x128 uint8 PNG', pipeline: 'load -> mirror -> tile -> stitch -> save', concurrency: 2 };
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
      ];
    },
  },
];
