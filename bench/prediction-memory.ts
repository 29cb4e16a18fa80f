/**
 * Child process of memory.bench.ts: runs the shipped model's prediction pipeline
 * (load -> mirror -> tile -> unet (tta none) -> stitch -> threshold | watershed -> save
 * mask) on one image and prints its peak RSS as JSON. A fresh process per case, so that
 * figures do not mix. The run takes a 1000² image first, which loads everything a run
 * needs (the model, ONNX Runtime's buffers); the peak when it is done is the baseline
 * that the large image's peak is measured above. Both files go through one
 * run, one at a time, so the model is loaded once.
 *
 *   node --import tsx bench/prediction-memory.ts --image big.tif --post threshold [--root DIR]
 *
 * `--root` runs another checkout's code (the pre-change reference) with this script;
 * `--tmp` is where its files go (the parent's folder, cleared even if this run dies).
 */
import { copyFile, link, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { lastValueFrom, tap } from 'rxjs';
import type { RunEvent } from '../src/events.js';
import { readImage } from '../src/io/read.js';
import { encodeTiff } from '../src/io/tiff.js';
import { mirrorPad } from '../src/kernels/mirror.js';

const { values } = parseArgs({
  options: { image: { type: 'string' }, post: { type: 'string', default: 'threshold' }, root: { type: 'string', default: '.' }, tmp: { type: 'string' } },
});
const root = resolve(values.root!);
const model = join(root, 'models/isbi2012-em');
const { runPipeline } = (await import(join(root, 'src/pipeline/run.ts'))) as typeof import('../src/pipeline/run.js');

/** The steps after `unet`; `tile-threshold` thresholds each tile before stitching only the mask. */
const postSteps: Record<string, object[]> = {
  threshold: [{ stitch: {} }, { threshold: { class: 1, at: 0.5 } }],
  watershed: [{ stitch: {} }, { watershed: { class: 1, at: 0.1, seeds: 0.8, minSeedArea: 50 } }],
  'tile-threshold': [{ threshold: { class: 1, at: 0.5 } }, { stitch: { field: 'mask' } }],
};
const post = postSteps[values.post!];
if (!post || !values.image) throw new Error(`usage: --image PATH --post ${Object.keys(postSteps).join('|')} [--root DIR] [--tmp DIR]`);

// The peak so far, on stderr, so that the parent can tell how far a run got that dies of memory.
setInterval(() => process.stderr.write(`peak ${peakMiB()}\n`), 1000).unref();

const dir = await mkdtemp(join(values.tmp ?? tmpdir(), 'unetflow-memory-'));
try {
  // Sorted by name, the warm-up image first: 3x3 tiles, so batches of 4 and of 1 (ONNX Runtime keeps buffers per
  // batch shape). A link, not a copy, of the large image (the source skips symbolic links).
  const slice = await readImage(join(root, 'fixtures/isbi2012/test/00.png'));
  await writeFile(join(dir, '0-warmup.tif'), encodeTiff([mirrorPad(slice, { top: 0, left: 0, bottom: 1000 - slice.height, right: 1000 - slice.width })], 'none'));
  const image = resolve(values.image!);
  await link(image, join(dir, '1-image.tif')).catch(() => copyFile(image, join(dir, '1-image.tif')));
  const definition = {
    version: 1,
    name: 'memory',
    concurrency: 1,
    source: { files: dir },
    steps: [{ load: { channels: 1 } }, { mirror: { model } }, { tile: { model } }, { unet: { model, tta: 'none' } }, ...post, { save: { dir: join(dir, 'out'), outputs: ['mask'] } }],
  };
  const done: { baselineMiB: number; seconds: number }[] = [];
  const failures: string[] = [];
  await lastValueFrom(
    runPipeline(definition).pipe(
      tap((e: RunEvent) => {
        if (e.type === 'file-done') done.push({ baselineMiB: peakMiB(), seconds: e.seconds });
        if (e.type === 'file-failed') failures.push(`${e.file}: ${e.message}`);
      }),
    ),
  );
  if (done.length !== 2) throw new Error(`${values.image} was not segmented: ${failures.join('; ') || 'no file-done event'}`);
  console.log(JSON.stringify({ baselineMiB: done[0].baselineMiB, peakMiB: peakMiB(), seconds: done[1].seconds }));
} finally {
  await rm(dir, { recursive: true, force: true });
}

function peakMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
