/** Model steps inside pipeline files: run-wide backend and workers, and Ctrl-C during training. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { runPipeline } from '../../src/pipeline/run.js';
import { defaultMetadata, saveModel } from '../../src/model/store.js';
import { UNet } from '../../src/model/network/unet.js';
import { useBackend } from '../../src/model/engines/choice.js';
import { collect, ofType, tempDir, writePng } from '../helpers/files.js';
import type { RunEvent } from '../../src/events.js';

test('a segmentation pipeline reports the backend and workers the run asked for', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  await writePng(join(dir, 'in', 'a.png'), 1, 50);
  await useBackend('cpu');
  const net = UNet.create({ depth: 2, baseFilters: 2, classes: 2, inputChannels: 1 }, 3);
  await saveModel(join(dir, 'model'), net, defaultMetadata(net.config, { tile: { input: 60, output: 20 } }));
  net.dispose();
  const events = await collect(
    runPipeline(
      {
        version: 1,
        name: 'seg',
        source: { files: 'in' },
        steps: [{ load: {} }, { mirror: { model: 'model' } }, { tile: { model: 'model' } }, { unet: { model: 'model' } }, { stitch: {} }, { threshold: {} }, { save: { dir: 'out', outputs: ['mask', 'overlay'] } }],
      },
      { baseDir: dir, backend: 'cpu', workers: 1 },
    ),
  );
  const [backend] = ofType(events, 'backend');
  assert.deepEqual([backend.name, backend.workers, backend.step], ['cpu', 1, 'steps[3].unet']);
  assert.match(ofType(events, 'stats')[0].backend!, /^cpu \(.*, 1 worker\)$/);
  assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['a.mask.png', 'a.overlay.png']);
});

test('stopping a training run (Ctrl-C) ends after the current step and still writes a final checkpoint', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'labels'));
  for (let i = 0; i < 3; i++) {
    await writePng(join(dir, 'images', `${i}.png`), i, 64);
    await writePng(join(dir, 'labels', `${i}.png`), 10 + i, 64);
  }
  const stop = new AbortController();
  const events = await collect(
    runPipeline(
      {
        version: 1,
        name: 'train',
        epochs: 50,
        concurrency: 1,
        source: { pairs: { images: 'images', labels: 'labels' } },
        steps: [
          { load: {} },
          { 'random-tiles': { input: 60, output: 20 } },
          { train: { model: 'model', architecture: { depth: 2, baseFilters: 2 }, optimizer: 'adam', checkpointEvery: 1000 } },
        ],
      },
      { baseDir: dir, backend: 'cpu', workers: 1, signal: stop.signal },
    ).pipe(
      tap((e) => {
        if (e.type === 'train-step' && e.step === 3) stop.abort();
      }),
    ),
  );
  const steps = ofType(events, 'train-step').length;
  assert.equal(steps, 3, 'the queued tiles are not trained on after the stop');
  const checkpoints = ofType(events, 'checkpoint');
  assert.equal(checkpoints.length, 1, 'only the final checkpoint (checkpointEvery 1000)');
  assert.equal(checkpoints[0].step, steps);
  assert.ok((await readdir(join(dir, 'model'))).includes('model.json'));
});

test('a missing or broken model is a pipeline problem: refused at start, and never recorded against the images', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'in'));
  for (const name of ['a', 'b', 'c']) await writePng(join(dir, 'in', `${name}.png`), name.charCodeAt(0), 50);
  await useBackend('cpu');
  const definition = {
    version: 1,
    name: 'seg',
    source: { watch: { dir: 'in', stableMs: 50 } },
    steps: [{ load: {} }, { mirror: { input: 60, output: 20 } }, { tile: { input: 60, output: 20 } }, { unet: { model: 'model' } }, { stitch: {} }, { threshold: {} }, { save: { dir: 'out', outputs: ['mask'] } }],
  };
  // No model yet: the run does not start, and names the folder at the step.
  const early: RunEvent[] = [];
  await assert.rejects(collect(runPipeline(definition, { baseDir: dir, backend: 'cpu', workers: 1 }).pipe(tap((e) => early.push(e)))), /steps\[3\]\.unet: cannot read .*model\.json/);
  assert.deepEqual(early.map((e) => e.type), ['run-failed']);

  // A model whose weights are damaged after the run started: the run ends (exit 2), no image is blamed.
  const net = UNet.create({ depth: 2, baseFilters: 2, classes: 2, inputChannels: 1 }, 3);
  await saveModel(join(dir, 'model'), net, defaultMetadata(net.config, { tile: { input: 60, output: 20 } }));
  net.dispose();
  const weights = (await readdir(join(dir, 'model'))).find((f) => f.startsWith('weights.'))!;
  const good = await readFile(join(dir, 'model', weights));
  const broken: RunEvent[] = [];
  const run = collect(
    runPipeline(definition, { baseDir: dir, backend: 'cpu', workers: 1 }).pipe(
      tap((e) => {
        broken.push(e);
        if (e.type === 'started') void writeFile(join(dir, 'model', weights), good.subarray(0, 100));
      }),
    ),
  );
  await assert.rejects(run, /steps\[3\]\.unet: cannot run the model .*weights\..*\.bin/);
  assert.equal(broken.at(-1)!.type, 'run-failed');
  assert.equal((broken.at(-1) as { exitCode: number }).exitCode, 2);
  assert.deepEqual(ofType(broken, 'file-failed'), []);
  assert.ok(!(await readdir(join(dir, 'out')).catch(() => [])).some((f) => f.endsWith('.error.json')));

  // Repaired: the next run segments every image.
  await writeFile(join(dir, 'model', weights), good);
  const stop = new AbortController();
  const fixed: RunEvent[] = [];
  const again = collect(runPipeline(definition, { baseDir: dir, backend: 'cpu', workers: 1, signal: stop.signal }).pipe(tap((e) => fixed.push(e))));
  while (ofType(fixed, 'file-done').length < 3) await new Promise((r) => setTimeout(r, 20));
  stop.abort();
  await again;
  assert.deepEqual(ofType(fixed, 'file-done').map((e) => e.id).sort(), ['a', 'b', 'c']);
  assert.equal(ofType(fixed, 'stats')[0].skipped, 0);
});
