/**
 * Fine-tuning on a small annotated crop through the binary: a 150 px crop of the
 * nuclei image and its label, smaller than the shipped model's 388 px output, with
 * random-tiles taking its tile size from that model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crop } from '../../src/kernels/mirror.js';
import { readImage } from '../../src/io/read.js';
import { writeImage } from '../../src/io/write.js';
import { tempDir } from '../helpers/files.js';

const BIN = resolve('bin/unetflow.js');
const EM = resolve('models/isbi2012-em');

test('random-tiles with a model trains on a crop smaller than its output tile, mirroring it, and says so', { timeout: 300_000 }, async () => {
  const dir = await tempDir('unetflow-small-crop-');
  try {
    for (const [from, to] of [['fixtures/dsb2018-nuclei/images/nuclei.tif', 'images'], ['fixtures/dsb2018-nuclei/labels/nuclei.tif', 'labels']]) {
      await mkdir(join(dir, to));
      await writeImage(join(dir, to, 'crop.tif'), crop(await readImage(from), { x: 100, y: 100, width: 150, height: 150 }), 'tiff');
    }
    await writeFile(
      join(dir, 'p.yaml'),
      [
        'version: 1',
        'name: small-crop',
        'seed: 3',
        'source: { pairs: { images: images, labels: labels } }',
        'steps:',
        '  - load: { channels: 1 }',
        '  - weight-map: { input: instances, w0: 10, sigma: 5 }',
        `  - random-tiles: { model: ${JSON.stringify(EM)}, count: 1, foreground: 1 }`,
        `  - train: { from: ${JSON.stringify(EM)}, model: model, normalisation: recompute, batchSize: 1, workers: 1 }`,
        '',
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, [BIN, 'run', join(dir, 'p.yaml'), '--json', '--backend', 'wasm'], { encoding: 'utf8' });
    const events = run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const failures = events.filter((e) => e.type === 'file-failed' || e.type === 'run-failed').map((e) => e.message);
    assert.deepEqual(failures, [], run.stderr);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(events.filter((e) => e.type === 'train-step').map((e) => e.step), [1]);
    const [note] = events.filter((e) => e.type === 'log' && /mirrored/.test(e.message));
    assert.match(note.message, /crop\.tif: the image is 150x150, smaller than the network's 388 px output: its training tiles are mirrored past the border/);
    assert.match(run.stderr, /smaller than the network's 388 px output: its training tiles are mirrored/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
