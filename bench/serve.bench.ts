/**
 * What the live page costs the run: 1,000 files dropped at once into a watched folder,
 * with and without the live page's server following the run (`run --serve`), one page
 * connected to its event stream. Each in a child process, three times, alternating
 * (plain, serve, serve, plain, plain, serve) so that drift in a shared machine's load
 * falls on both; the medians are reported, and their ratio.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark } from './harness.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'serve-burst.ts');

interface Burst {
  seconds: number;
  done: number;
  sseBytes: number;
  dropped: number;
}

function child(mode: 'plain' | 'serve'): Burst {
  const r = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', script, mode, '1000'], { encoding: 'utf8' })) as Burst;
  if (r.done !== 1000) throw new Error(`${mode}: expected 1000 files done, got ${r.done}`);
  return r;
}

export const benchmarks: Benchmark[] = [
  {
    group: 'serve',
    name: 'burst of 1,000 files into a watched folder, with and without the live page',
    async run() {
      const runs = (['plain', 'serve', 'serve', 'plain', 'plain', 'serve'] as const).map((mode) => ({ mode, ...child(mode) }));
      const median = (mode: 'plain' | 'serve') => runs.filter((r) => r.mode === mode).sort((a, b) => a.seconds - b.seconds)[1];
      const plain = median('plain');
      const served = median('serve');
      if (served.sseBytes === 0) throw new Error('the connected page received nothing');
      return [
        {
          name: 'serve-burst-1000-files-per-s',
          value: 1000 / served.seconds,
          unit: 'files/s',
          parameters: {
            files: 1000,
            image: '128x128 uint8 PNG',
            pipeline: 'load -> mirror -> tile -> stitch -> save (watch)',
            concurrency: 2,
            pages: 1,
            sseBytes: served.sseBytes,
            dropped: served.dropped,
            runs: runs.map((r) => ({ mode: r.mode, seconds: +r.seconds.toFixed(2) })),
          },
          reference: { name: 'same burst without --serve', value: 1000 / plain.seconds, ratio: plain.seconds / served.seconds },
        },
      ];
    },
  },
];
