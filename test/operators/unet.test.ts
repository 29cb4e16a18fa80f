import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, from, toArray } from 'rxjs';
import * as tf from '@tensorflow/tfjs';
import { makeImage } from '../../src/image/image.js';
import { useBackend } from '../../src/model/engines/choice.js';
import { predictProbabilities } from '../../src/model/inference/predict.js';
import { defaultMetadata, geometryOfModel, saveModel, type ModelMetadata } from '../../src/model/store.js';
import { UNet } from '../../src/model/network/unet.js';
import { createRng } from '../../src/random.js';
import type { SampleError } from '../../src/errors.js';
import type { Sample } from '../../src/sample.js';
import type { RunEvent } from '../../src/events.js';
import { writeImage } from '../../src/io/write.js';
import { load } from '../../operators/load.js';
import { typedTiff } from '../io/typed-tiff.js';
import { until } from '../helpers/wait.js';
import { mirror } from '../../operators/mirror.js';
import { stitch } from '../../operators/stitch.js';
import { tile } from '../../operators/tile.js';
import { unet } from '../../operators/unet.js';

function noise(id: string, width: number, height: number, seed: number): Sample {
  const rng = createRng(seed);
  const data = Uint8Array.from({ length: width * height }, () => rng.int(256));
  return { id, source: { path: `${id}.png` }, image: makeImage(width, height, 1, 'uint8', data) };
}

async function withModel(fn: (dir: string) => Promise<void>, extra: Partial<ModelMetadata> = {}): Promise<void> {
  await useBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-unet-'));
  const net = UNet.create({ depth: 2, baseFilters: 4, classes: 3, inputChannels: 1 }, 5);
  try {
    await saveModel(dir, net, defaultMetadata(net.config, { tile: { input: 60, output: 20 }, ...extra }));
    await fn(dir);
  } finally {
    net.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

test('mirror, tile, unet and stitch give per-class probabilities at each image\'s size', async () => {
  await withModel(async (dir) => {
    const g = (await geometryOfModel(dir)) as { input: number; output: number };
    const size = { input: g.input, output: g.output };
    const before = tf.memory().numTensors;
    const run = (batchSize: number, workers: number) =>
      firstValueFrom(
        from([noise('a', 50, 45, 1), noise('b', 23, 30, 2)]).pipe(mirror(size), tile(size), unet({ model: dir, batchSize, workers, keepSeconds: 0 }), stitch(), toArray()),
      );
    const batched = await run(5, 2);
    const single = await run(1, 1);
    await until(() => tf.memory().numTensors === before, 'the model to be freed once the stream has ended');
    assert.deepEqual(batched.map((s) => s.id), ['a', 'b']);
    for (const [i, s] of batched.entries()) {
      const p = s.probabilities!;
      assert.deepEqual([p.width, p.height, p.channels], [s.image.width, s.image.height, 3]);
      for (let j = 0; j < p.data.length; j += 3) assert.ok(Math.abs(p.data[j] + p.data[j + 1] + p.data[j + 2] - 1) < 1e-5);
      const q = single[i].probabilities!.data;
      for (let j = 0; j < p.data.length; j++) assert.ok(Math.abs(p.data[j] - q[j]) < 1e-5, 'batching and workers do not change results');
    }
  });
});

test('an operator instance loads its model once for sequential and concurrent subscriptions, and frees it after the grace period', async () => {
  await withModel(async (dir) => {
    const events: RunEvent[] = [];
    const before = tf.memory().numTensors;
    const op = unet({ model: dir, workers: 1, keepSeconds: 0.05 }, { emit: (e) => events.push(e) });
    const tiles = (seed: number) => from([noise(`t${seed}`, 60, 60, seed)]);
    const first = await firstValueFrom(tiles(1).pipe(op, toArray()));
    const loaded = tf.memory().numTensors;
    const second = await firstValueFrom(tiles(2).pipe(op, toArray()));
    await Promise.all([firstValueFrom(tiles(3).pipe(op, toArray())), firstValueFrom(tiles(4).pipe(op, toArray()))]);
    assert.equal(first.length + second.length, 2);
    assert.ok(loaded > before, 'loaded on first use');
    assert.equal(tf.memory().numTensors, loaded, 'not loaded again while held or within the grace period');
    await until(() => tf.memory().numTensors === before, 'the model to be freed after the grace period');
    await firstValueFrom(tiles(5).pipe(op, toArray()));
    assert.equal(tf.memory().numTensors, loaded, 'loaded again when needed again');
    await until(() => tf.memory().numTensors === before, 'the model to be freed again');
    // What a watch service prints: the backend and the model once, not after every idle period.
    assert.equal(events.filter((e) => e.type === 'backend').length, 1);
    assert.equal(events.filter((e) => e.type === 'log' && e.message.includes(dir)).length, 1);
  });
});

test('a tile of the wrong shape fails alone and the others go on', async () => {
  await withModel(async (dir) => {
    const errors: SampleError[] = [];
    const out = await firstValueFrom(
      from([noise('square', 60, 60, 1), noise('wide', 60, 44, 2), noise('odd', 50, 50, 3)]).pipe(
        unet({ model: dir, batchSize: 2, workers: 1 }, { onSampleError: (e) => errors.push(e) }),
        toArray(),
      ),
    );
    assert.deepEqual(out.map((s) => [s.id, s.probabilities!.width]), [['square', 20]]);
    assert.match(errors[0].message, /unet: wide\.png: .*tiles must be square, got 60x44/);
    assert.match(errors[1].message, /cannot take a 50 px tile; nearest valid: 48 \(-> 8\) or 52 \(-> 12\)/);
  });
});

test('bad parameters fail when the operator is created', () => {
  assert.throws(() => unet({ model: 'm', tta: 'rotate' } as never), /tta/);
  assert.throws(() => unet({ modle: 'm' } as never), /did you mean 'model'/);
});

test('dihedral test-time augmentation commutes with transposing the input', async () => {
  await useBackend('wasm');
  const net = UNet.create({ depth: 2, baseFilters: 4, classes: 2, inputChannels: 1 }, 9);
  const x = Float32Array.from(noise('x', 44, 44, 4).image.data, (v) => v / 255);
  const xt = new Float32Array(x.length);
  for (let y = 0; y < 44; y++) for (let c = 0; c < 44; c++) xt[c * 44 + y] = x[y * 44 + c];
  const p = await predictProbabilities(net, x, 1, 44, 'dihedral');
  const pt = await predictProbabilities(net, xt, 1, 44, 'dihedral');
  const plain = await predictProbabilities(net, x, 1, 44, 'none');
  let differs = false;
  for (let y = 0; y < 4; y++) {
    for (let c = 0; c < 4; c++) {
      for (let k = 0; k < 2; k++) {
        assert.ok(Math.abs(p[(y * 4 + c) * 2 + k] - pt[(c * 4 + y) * 2 + k]) < 1e-5);
        if (Math.abs(p[(y * 4 + c) * 2 + k] - plain[(y * 4 + c) * 2 + k]) > 1e-4) differs = true;
      }
    }
  }
  assert.ok(differs, 'augmentation changes the prediction of an untrained network');
  net.dispose();
});

const size = { input: 60, output: 20 };
const segment = (files: string[], dir: string, emit?: (e: RunEvent) => void) =>
  firstValueFrom(from(files).pipe(load({ channels: 1 }), mirror(size), tile(size), unet({ model: dir, workers: 1, keepSeconds: 0 }, { emit }), stitch(), toArray()));

test('an image far from the trained intensities is warned about once, naming the file, and one near them is not', async () => {
  const trained = { low: 0.2, high: 0.9, mean: 0.55 };
  await withModel(async (dir) => {
    const files = await mkdtemp(join(tmpdir(), 'unetflow-intensity-'));
    // An 8-bit range in a 16-bit file: nearly black under dtype normalisation. 3x3 tiles.
    const rng = createRng(7);
    const dim = join(files, 'dim.png');
    await writeImage(dim, makeImage(50, 45, 1, 'uint16', Uint16Array.from({ length: 50 * 45 }, () => rng.int(236))), 'png');
    const fine = join(files, 'fine.png');
    await writeImage(fine, makeImage(50, 45, 1, 'uint8', Uint8Array.from({ length: 50 * 45 }, () => 40 + rng.int(180))), 'png');
    const events: RunEvent[] = [];
    const out = await segment([dim, fine], dir, (e) => events.push(e));
    assert.equal(out.length, 2, 'both are still segmented');
    const warnings = events.filter((e) => e.type === 'log' && e.level === 'warn').map((e) => (e as { message: string }).message);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0],
      /^unet: .*dim\.png: the network input's intensities \(1st-99\.8th percentile [\d.]+-0\.003\d+, mean 0\.00\d+\) are far from those the model was trained on \(0\.2-0\.9, mean 0\.55\): its spread is 0\.5\d+% of the trained one \(under a quarter\)\. The result is likely wrong\. .*`load: \{ normalize: \{ method: percentile \} \}`/,
    );
    await rm(files, { recursive: true, force: true });
  }, { inputIntensity: trained });
});

test('a model without recorded intensities gives no intensity warning', async () => {
  await withModel(async (dir) => {
    const files = await mkdtemp(join(tmpdir(), 'unetflow-intensity-'));
    const dim = join(files, 'dim.png');
    await writeImage(dim, makeImage(30, 30, 1, 'uint16', new Uint16Array(900).fill(200)), 'png');
    const events: RunEvent[] = [];
    await segment([dim], dir, (e) => events.push(e));
    assert.deepEqual(events.filter((e) => e.type === 'log' && e.level === 'warn'), []);
    await rm(files, { recursive: true, force: true });
  });
});

test('an int16 TIFF reaches the network divided by 32767, as dtype normalisation asks', async () => {
  await withModel(async (dir) => {
    const files = await mkdtemp(join(tmpdir(), 'unetflow-int16-'));
    const rng = createRng(9);
    const values = Int16Array.from({ length: 50 * 45 }, () => rng.int(4096) - 200); // a 12-bit camera, a little offset below 0
    const signed = join(files, 'signed.tif');
    await writeFile(signed, typedTiff(50, 45, 1, values));
    // The reference: the same values divided by hand, in a float32 file (taken as already in range).
    const scaled = join(files, 'scaled.tif');
    await writeImage(scaled, makeImage(50, 45, 1, 'float32', Float32Array.from(values, (v) => v / 32767)), 'tiff');
    const [a, b] = await segment([signed, scaled], dir);
    const p = a.probabilities!.data;
    const q = b.probabilities!.data;
    let worst = 0;
    for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i] - q[i]));
    assert.ok(worst < 1e-6, `largest probability difference ${worst}`);
    await rm(files, { recursive: true, force: true });
  });
});
