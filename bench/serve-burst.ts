/**
 * Child of serve.bench.ts: `serve-burst.ts plain|serve N` drops N distinct small PNGs at
 * once into a watched folder and prints { seconds, done, ... } once all are done. With
 * `serve`, the run's events also go to the live page's server (as `run --serve` does)
 * with one page connected to its event stream, reading everything it is sent.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject, tap } from 'rxjs';
import { runPipeline } from '../src/pipeline/run.js';
import { distinctPngs } from './burst-images.js';
import { startLiveServer } from '../src/serve/server.js';
import type { ServeEvent } from '../src/serve/state.js';

const [mode, count] = [process.argv[2] as 'plain' | 'serve', Number(process.argv[3])];
const dir = await mkdtemp(join(tmpdir(), 'unetflow-serve-burst-'));
await mkdir(join(dir, 'in'));
const pngs = await distinctPngs(count);

const events = new Subject<ServeEvent>();
const server = mode === 'serve' ? await startLiveServer(events, { roots: [join(dir, 'out')], port: 0 }) : undefined;
let received = 0;
if (server) {
  // The page: connected before the burst, reading its stream as fast as it comes.
  await new Promise<void>((ok, fail) =>
    get(`${server.url}events`, (res) => {
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      ok();
    }).on('error', fail),
  );
}

const stop = new AbortController();
let done = 0;
let t0 = 0;
const definition = {
  version: 1,
  name: 'serve-burst',
  source: { watch: { dir: 'in', stableMs: 200 } },
  steps: [{ load: {} }, { mirror: { input: 92, output: 36 } }, { tile: { input: 92, output: 36 } }, { stitch: {} }, { save: { dir: 'out', outputs: ['image'] } }],
};
const write = async () => {
  t0 = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => writeFile(join(dir, 'in', `f${String(i).padStart(4, '0')}.png`), pngs[i])));
};
await new Promise<void>((resolve, reject) =>
  runPipeline(definition, { baseDir: dir, signal: stop.signal })
    .pipe(tap((e) => events.next(e)))
    .subscribe({
      next(e) {
        if (e.type === 'log' && e.message.startsWith('watching')) void write();
        if (e.type === 'file-done' && ++done === count) stop.abort();
      },
      error: reject,
      complete: resolve,
    }),
);
const seconds = (performance.now() - t0) / 1000;
const queues = server?.broadcaster.queues() ?? [];
await server?.close();
console.log(JSON.stringify({ seconds, done, sseBytes: received, dropped: queues[0]?.dropped ?? 0 }));
await rm(dir, { recursive: true, force: true });
