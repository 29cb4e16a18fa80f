import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatMap, from, lastValueFrom } from 'rxjs';
import { makeImage } from '../../src/image/image.js';
import type { TileGeometry } from '../../src/kernels/tiling.js';
import { useBackend } from '../../src/model/engines/choice.js';
import { validSizes } from '../../src/model/network/geometry.js';
import { predictProbabilities } from '../../src/model/inference/predict.js';
import { UNet, type UNetConfig } from '../../src/model/network/unet.js';
import { createRng } from '../../src/random.js';
import type { Sample } from '../../src/sample.js';
import { mirror } from '../../operators/mirror.js';
import { stitch } from '../../operators/stitch.js';
import { tile } from '../../operators/tile.js';
import { maxDifference } from '../model/onnx/helpers.js';
import { cropMirrored } from '../../src/kernels/mirror.js';
import { createStitcher } from '../../src/kernels/stitch.js';
import { tileGrid } from '../../src/kernels/tiling.js';

/**
 * Same-padded networks are not tiling-invariant: zero padding at each tile's border
 * changes the output there, and blending only down-weights it. For an untrained
 * 2-filter depth-2 network (the worst case: nothing learnt to ignore borders), gaussian
 * blending and 8 px overlap, two tilings of one image differ by at most 0.59 in a
 * probability and by 0.098 on average (measured); the tolerance is 10% above that.
 */
const MAX_SAME = 0.65;
const MEAN_SAME = 0.11;

function noise(width: number, height: number, seed: number): Sample {
  const rng = createRng(seed);
  const data = Float32Array.from({ length: width * height }, () => rng.next());
  return { id: 'x', source: { path: 'x.tif' }, image: makeImage(width, height, 1, 'float32', data) };
}

/** mirror -> tile -> the network on each tile -> stitch, with `geometry`. */
async function probabilities(net: UNet, sample: Sample, geometry: Record<string, unknown>): Promise<Float32Array> {
  const predict = concatMap(async (t: Sample) => {
    const size = t.image.width;
    const p = await predictProbabilities(net, t.image.data as Float32Array, 1, size);
    const out = net.sizeMap(size).output;
    return { ...t, probabilities: makeImage(out, out, net.config.classes, 'float32', p) };
  });
  const done = await lastValueFrom(from([sample]).pipe(mirror(geometry), tile(geometry), predict, stitch()));
  return done.probabilities!.data as Float32Array;
}

async function withNet(config: Partial<UNetConfig>, f: (net: UNet) => Promise<void>) {
  await useBackend('wasm');
  const net = UNet.create({ baseFilters: 2, classes: 2, ...config }, 11);
  try {
    await f(net);
  } finally {
    net.dispose();
  }
}

test('a valid network gives every pixel the same probabilities whatever the tile size (random image sizes and tilings)', async () => {
  await withNet({ depth: 3, padding: 'valid' }, async (net) => {
    const rng = createRng(3);
    const sizes = validSizes(net.config, 260).filter((s) => s.output >= 8);
    for (let trial = 0; trial < 6; trial++) {
      const sample = noise(10 + rng.int(90), 10 + rng.int(90), trial);
      const [a, b] = [sizes[rng.int(sizes.length)], sizes[rng.int(sizes.length)]];
      const label = `${sample.image.width}x${sample.image.height}, tiles ${a.input} and ${b.input}`;
      // One tile over the whole image is the reference: no tiling at all.
      const whole = sizes.find((s) => s.output >= Math.max(sample.image.width, sample.image.height))!;
      const reference = await probabilities(net, sample, { input: whole.input, output: whole.output });
      for (const s of [a, b]) assert.ok(maxDifference(await probabilities(net, sample, { input: s.input, output: s.output }), reference) < 1e-5, label);
    }
  });
});

/** The same through the kernels, for a geometry `tile` would not build (no alignment). */
async function kernelProbabilities(net: UNet, sample: Sample, geometry: TileGeometry): Promise<Float32Array> {
  const grid = tileGrid(sample.image.height, sample.image.width, geometry);
  const stitcher = createStitcher(grid, net.config.classes, 'float32');
  for (let index = 0; index < grid.count; index++) {
    const [y, x] = [grid.rows[Math.floor(index / grid.cols.length)], grid.cols[index % grid.cols.length]];
    const cut = cropMirrored(sample.image, { y: y - grid.padding.top, x: x - grid.padding.left, width: grid.inputSize, height: grid.inputSize });
    const p = await predictProbabilities(net, cut.data as Float32Array, 1, grid.inputSize);
    stitcher.add(index, makeImage(grid.outputSize, grid.outputSize, net.config.classes, 'float32', p));
  }
  return stitcher.result().data as Float32Array;
}

test('tiles off the pooling grid (abutting, the last shifted back) change the probabilities: the alignment is what makes tilings agree', async () => {
  await withNet({ depth: 3, padding: 'valid' }, async (net) => {
    const sample = noise(70, 70, 9);
    const reference = await probabilities(net, sample, { input: 164, output: 76 });
    // Depth 3 pools on an 8 px grid; 20 px outputs abut at 0, 20, 40 and 50: four different grid phases.
    const unaligned: TileGeometry = { kind: 'valid', input: 108, output: 20 };
    assert.ok(maxDifference(await kernelProbabilities(net, sample, unaligned), reference) > 1e-3);
    assert.ok(maxDifference(await kernelProbabilities(net, sample, { ...unaligned, align: 8 }), reference) < 1e-5);
  });
});

test('a same-padded network with gaussian blending stays within the stated tolerance across tile sizes', async () => {
  await withNet({ depth: 2, padding: 'same' }, async (net) => {
    const rng = createRng(5);
    let worst = 0;
    let mean = 0;
    for (let trial = 0; trial < 4; trial++) {
      const sample = noise(30 + rng.int(60), 30 + rng.int(60), 20 + trial);
      const [a, b] = [16 + 4 * rng.int(8), 16 + 4 * rng.int(8)];
      const pa = await probabilities(net, sample, { size: a, overlap: 8 });
      const pb = await probabilities(net, sample, { size: b, overlap: 8 });
      worst = Math.max(worst, maxDifference(pa, pb));
      mean = Math.max(mean, pa.reduce((s, v, i) => s + Math.abs(v - pb[i]), 0) / pa.length);
    }
    assert.ok(worst <= MAX_SAME, `largest difference ${worst}`);
    assert.ok(mean <= MEAN_SAME, `mean difference ${mean}`);
  });
});
