/**
 * pipelines/finetune.yaml as shipped, for a few steps on a 160 px crop of its nuclei
 * image: fine-tunes the shipped EM model into a new folder, validates on the held-out
 * half, and leaves the shipped model as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crop } from '../../src/kernels/mirror.js';
import { readImage } from '../../src/io/read.js';
import { writeImage } from '../../src/io/write.js';
import { readMetadata } from '../../src/model/store.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { collect, ofType, tempDir } from '../helpers/files.js';

const EM = 'models/isbi2012-em';

async function digest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const f of (await readdir(dir)).sort()) hash.update(f).update(await readFile(join(dir, f)));
  return hash.digest('hex');
}

test('the fine-tuning pipeline trains a new model from the shipped one for a few steps and validates on the held-out half', { timeout: 240_000 }, async () => {
  const dir = await tempDir('unetflow-finetune-');
  try {
    for (const [from, to] of [['fixtures/dsb2018-nuclei/images/nuclei.tif', 'images'], ['fixtures/dsb2018-nuclei/labels/nuclei.tif', 'labels']]) {
      await mkdir(join(dir, to));
      await writeImage(join(dir, to, 'crop.tif'), crop(await readImage(from), { x: 0, y: 0, width: 160, height: 160 }), 'tiff');
    }
    const shipped = await digest(EM);
    const weightsFile = (await readdir(EM)).find((f) => f.startsWith('weights.'))!;
    const model = join(dir, 'model');
    const set = [
      `source.pairs.images=${join(dir, 'images')}`,
      `source.pairs.labels=${join(dir, 'labels')}`,
      'epochs=1',
      'steps.4.random-tiles.count=2',
      `steps.5.train.model=${model}`,
      'steps.5.train.workers=1',
    ];
    const events = await collect(runPipeline('pipelines/finetune.yaml', { set, backend: 'wasm' }));
    assert.deepEqual(ofType(events, 'run-failed'), []);
    assert.deepEqual(ofType(events, 'train-step').map((e) => e.step), [1, 2]);
    // every: 50 is not reached in 2 steps: the validation after the last step scores the held-out 80x160.
    const [v] = ofType(events, 'validation');
    assert.equal(v.step, 2);
    for (const score of [v.iou, v.objectF1!, v.pixelError]) assert.ok(score >= 0 && score <= 1, JSON.stringify(v));
    assert.equal(await digest(EM), shipped, 'the shipped model folder is unchanged');
    const metadata = await readMetadata(model);
    const parent = metadata.provenance?.parent as { path: string; sha256: string };
    assert.equal(parent.path, resolve(EM));
    assert.equal(parent.sha256, createHash('sha256').update(await readFile(join(EM, weightsFile))).digest('hex'));
    assert.equal(metadata.normalisation.method, 'range', 'recomputed from the nuclei, not the EM model\'s dtype');
    assert.deepEqual(metadata.classNames, ['background', 'nucleus']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
