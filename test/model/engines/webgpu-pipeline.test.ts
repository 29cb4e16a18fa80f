/**
 * Pipelines on `--backend webgpu` behave as on wasm: the backend event and the summary
 * name the adapter, validation and checkpoints run during training, Ctrl-C ends after
 * the current step with a final checkpoint, and no tensor is left behind. In CI the
 * adapter is lavapipe (test/helpers/optional.ts), so the network is tiny.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tap } from 'rxjs';
import * as tf from '@tensorflow/tfjs';
import { adapterLine } from '../../../src/events.js';
import { useBackend } from '../../../src/model/engines/choice.js';
import { loadModel } from '../../../src/model/store.js';
import { runPipeline } from '../../../src/pipeline/run.js';
import { collect, ofType, tempDir, writePng } from '../../helpers/files.js';
import { needsWebGpu } from '../../helpers/optional.js';

const gpu = await needsWebGpu();

test('training on webgpu validates, checkpoints, stops after the current step on Ctrl-C and frees its tensors', gpu, async () => {
  const dir = await tempDir();
  for (const sub of ['images', 'labels', 'val/images', 'val/labels']) await mkdir(join(dir, sub), { recursive: true });
  for (let i = 0; i < 3; i++) {
    await writePng(join(dir, 'images', `${i}.png`), i, 64);
    await writePng(join(dir, 'labels', `${i}.png`), 10 + i, 64);
  }
  await writePng(join(dir, 'val', 'images', 'v.png'), 20, 60);
  await writePng(join(dir, 'val', 'labels', 'v.png'), 21, 60);
  const { adapter } = await useBackend('webgpu');
  const before = tf.memory().numTensors;
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
          {
            train: {
              model: 'model',
              architecture: { depth: 2, baseFilters: 2 },
              optimizer: 'adam',
              checkpointEvery: 2,
              validation: { images: 'val/images', labels: 'val/labels', every: 2 },
            },
          },
        ],
      },
      { baseDir: dir, backend: 'webgpu', workers: 1, signal: stop.signal },
    ).pipe(
      tap((e) => {
        if (e.type === 'train-step' && e.step === 3) stop.abort();
      }),
    ),
  );
  const [backend] = ofType(events, 'backend');
  assert.deepEqual([backend.name, backend.workers, backend.adapter], ['webgpu', 1, adapter]);
  assert.equal(ofType(events, 'stats')[0].backend, `webgpu (@tensorflow/tfjs-backend-webgpu, 1 worker, ${adapterLine(adapter!)})`);
  const steps = ofType(events, 'train-step');
  assert.deepEqual(steps.map((e) => e.step), [1, 2, 3], 'the queued tiles are not trained on after the stop');
  assert.ok(steps.every((e) => Number.isFinite(e.loss) && e.loss > 0), 'losses read back from the GPU');
  const [validation] = ofType(events, 'validation');
  assert.equal(validation.step, 2);
  assert.ok(validation.iou >= 0 && validation.iou <= 1 && validation.pixelError >= 0 && validation.pixelError <= 1);
  assert.deepEqual(ofType(events, 'checkpoint').map((e) => e.step), [2, 3], 'every 2 steps, then the final one');
  assert.equal(tf.memory().numTensors, before, 'the model, its optimiser and every step\'s tensors are freed');

  const loaded = await loadModel(join(dir, 'model'));
  assert.equal(loaded.metadata.provenance?.step, 3);
  assert.ok(loaded.optimizerState && loaded.optimizerState.length > 0, 'the checkpoint holds the optimiser state read from the GPU');
  loaded.model.dispose();
  assert.ok((await readdir(join(dir, 'model'))).includes('model.json'));
});
