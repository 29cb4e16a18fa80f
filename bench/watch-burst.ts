/** Child of watch.bench.ts: `watch-burst.ts watch|files N` prints { seconds, peakAboveBaselineMiB, done }. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline } from '../src/pipeline/run.js';
import { distinctPngs } from './burst-images.js';

const [mode, count] = [process.argv[2] as 'watch' | 'files', Number(process.argv[3])];
const dir = await mkdtemp(join(tmpdir(), 'unetflow-burst-'));
await mkdir(join(dir, 'in'));
const pngs = await distinctPngs(count);
const baseline = process.resourceUsage().maxRSS / 1024;
const stop = new AbortController();
let done = 0;
let t0 = 0;
const definition = {
  version: 1,
  name: 'burst',
  source: mode === 'watch' ? { watch: { dir: 'in', stableMs: 200 } } : { files: 'in' },
  steps: [{ load: {} }, { mirror: { input: 92, output: 36 } }, { tile: { input: 92, output: 36 } }, { stitch: {} }, { save: { dir: 'out', outputs: ['image'] } }],
};
const write = async () => {
  t0 = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => writeFile(join(dir, 'in', `f${String(i).padStart(4, '0')}.png`), pngs[i])));
};
if (mode === 'files') await write();
await new Promise<void>((resolve, reject) =>
  runPipeline(definition, { baseDir: dir, signal: stop.signal }).subscribe({
    next(e) {
      if (e.type === 'log' && e.message.startsWith('watching')) void write();
      if (e.type === 'file-done' && ++done === count && mode === 'watch') stop.abort();
    },
    error: reject,
    complete: resolve,
  }),
);
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ seconds, peakAboveBaselineMiB: process.resourceUsage().maxRSS / 1024 - baseline, done }));
await rm(dir, { recursive: true, force: true });
