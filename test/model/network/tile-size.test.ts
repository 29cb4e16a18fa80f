import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tileGrid, type TileGeometry } from '../../../src/kernels/tiling.js';
import { forwardFlops, parameterCount, type NetworkLayers } from '../../../src/model/network/flops.js';
import { outputSize } from '../../../src/model/network/geometry.js';
import { predictionPeakBytes } from '../../../src/model/network/peak-bytes.js';
import { chooseTiles, FLOP_SLACK, planGrid } from '../../../src/model/network/tile-size.js';
import { UNet } from '../../../src/model/network/unet.js';
import { createRng } from '../../../src/random.js';

const paper16: NetworkLayers = { depth: 4, baseFilters: 16, classes: 2, inputChannels: 1, padding: 'valid' };
const GiB = 2 ** 30;

test('forward FLOPs counted from the layers match the GFLOP per 572 px forward of FINDINGS (PyTorch reference table)', () => {
  // ../shared/FINDINGS.md: 18.9 (16 filters), 300.9 (64 filters) at 572 px, 1.9 (16 filters) at 252 px.
  assert.equal(+(forwardFlops(paper16, 572) / 1e9).toFixed(1), 18.9);
  assert.equal(+(forwardFlops({ ...paper16, baseFilters: 64 }, 572) / 1e9).toFixed(1), 300.9);
  assert.equal(+(forwardFlops(paper16, 252) / 1e9).toFixed(1), 1.9);
});

test('a depth-0 network is two 3x3 convolutions and the head, counted by hand', () => {
  // 10 px in, 2 filters, 3 classes: 8x8x9x1x2 + 6x6x9x2x2 + 6x6x2x3 multiply-adds.
  const macs = 8 * 8 * 9 * 1 * 2 + 6 * 6 * 9 * 2 * 2 + 6 * 6 * 2 * 3;
  assert.equal(forwardFlops({ depth: 0, baseFilters: 2, classes: 3, inputChannels: 1, padding: 'valid' }, 10), 2 * macs);
});

test('parameters counted from the layers are those of the network the model builds', () => {
  for (const config of [paper16, { ...paper16, depth: 2, baseFilters: 5, classes: 3, inputChannels: 2 }]) {
    const net = UNet.create({ ...config, dropout: 0 }, 1);
    try {
      assert.equal(parameterCount(config), net.parameterCount);
    } finally {
      net.dispose();
    }
  }
});

test('a 512 px slice gets one 700 px tile, a 2048 px image nine of 876 px (within FLOP_SLACK of one 2236 px tile), under a 2 GiB budget', () => {
  const plan = { kind: 'auto' as const, network: paper16, budgetBytes: 2 * GiB };
  const slice = chooseTiles(512, 512, plan);
  assert.deepEqual(slice.geometry, { kind: 'valid', input: 700, output: 516, align: 16 });
  assert.equal(slice.tiles, 1);
  // Four 572 px tiles cost 2.4x as much.
  assert.ok((4 * forwardFlops(paper16, 572)) / slice.flops > 2.4);
  const large = chooseTiles(2048, 2048, plan);
  assert.deepEqual([large.geometry.kind === 'valid' && large.geometry.input, large.tiles], [876, 9]);
  // The fewest FLOPs would be one 2236 px tile: nine of 876 cost at most FLOP_SLACK more, with far less memory.
  assert.ok(large.flops <= forwardFlops(paper16, 2236) * (1 + FLOP_SLACK) && large.flops > forwardFlops(paper16, 2236));
});

/** Every valid input size, its tiling's FLOPs and memory, by brute force. */
function bruteForce(height: number, width: number, network: NetworkLayers, budgetBytes: number) {
  const options: { input: number; flops: number; fits: boolean }[] = [];
  for (let input = 1; input <= Math.max(height, width) + 400; input++) {
    const output = outputSize(input, network);
    if (output === undefined || output < 2 ** network.depth) continue;
    const grid = tileGrid(height, width, { kind: 'valid', input, output, align: 2 ** network.depth });
    options.push({ input, flops: grid.count * forwardFlops(network, input), fits: predictionPeakBytes(network, input, input, 'dihedral') <= budgetBytes });
  }
  return options;
}

test('the chosen tiling is the smallest tile within FLOP_SLACK of the fewest FLOPs of all tilings within the budget, and fits it (brute force over every size)', () => {
  const rng = createRng(7);
  const network: NetworkLayers = { depth: 3, baseFilters: 8, classes: 2, inputChannels: 1, padding: 'valid' };
  for (let trial = 0; trial < 25; trial++) {
    const height = 20 + rng.int(600);
    const width = 20 + rng.int(600);
    const budgetBytes = [Infinity, 2e7, 6e7][trial % 3];
    const choice = chooseTiles(height, width, { kind: 'auto', network, budgetBytes });
    const fitting = bruteForce(height, width, network, budgetBytes).filter((o) => o.fits);
    const best = Math.min(...fitting.map((o) => o.flops));
    const label = `${width}x${height}, budget ${budgetBytes}`;
    const smallest = fitting.find((o) => o.flops <= best * (1 + FLOP_SLACK))!;
    assert.equal(choice.geometry.kind === 'valid' && choice.geometry.input, smallest.input, label);
    assert.equal(choice.flops, smallest.flops, label);
    assert.ok(choice.peakBytes <= budgetBytes, label);
    const grid = planGrid(height, width, { kind: 'auto', network, budgetBytes });
    assert.equal(grid.count, choice.tiles, label);
  }
});

test('where even the smallest tile exceeds the budget, the smallest is taken', () => {
  const choice = chooseTiles(300, 300, { kind: 'auto', network: paper16, budgetBytes: 1 });
  assert.deepEqual(choice.geometry, { kind: 'valid', input: 204, output: 20, align: 16 }); // the smallest whose output (20) is at least 16 px, the alignment
});

test('a same-padded network keeps its overlap and gets one tile when the image fits one', () => {
  const network: NetworkLayers = { ...paper16, padding: 'same' };
  const choice = chooseTiles(500, 700, { kind: 'auto', network, budgetBytes: 2 * GiB, overlap: 64 });
  assert.deepEqual(choice.geometry, { kind: 'same', tile: 704, overlap: 64, window: 'gaussian' } satisfies TileGeometry);
});
