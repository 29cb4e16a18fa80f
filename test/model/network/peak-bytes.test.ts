import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../../src/model/engines/choice.js';
import type { Augmentation } from '../../../src/model/inference/augmentation.js';
import { predictProbabilities } from '../../../src/model/inference/predict.js';
import { forwardPeakBytes, predictionPeakBytes } from '../../../src/model/network/peak-bytes.js';
import { UNet, unetConfig, type UNetConfig } from '../../../src/model/network/unet.js';
import { createRng } from '../../../src/random.js';

// Valid and same padding, depths 1 to 3, several channel counts, bands (height != width).
const cases: [Partial<UNetConfig>, width: number, height: number][] = [
  [{ depth: 1, baseFilters: 4, classes: 2, inputChannels: 1 }, 20, 36],
  [{ depth: 2, baseFilters: 4, classes: 2, inputChannels: 1 }, 44, 44],
  [{ depth: 2, baseFilters: 4, classes: 3, inputChannels: 2 }, 60, 44],
  [{ depth: 3, baseFilters: 8, classes: 2, inputChannels: 1 }, 92, 92],
  [{ depth: 2, baseFilters: 6, classes: 2, inputChannels: 1, padding: 'same' }, 32, 32],
];

/**
 * tfjs's own count (tf.profile on the cpu backend) of the bytes `f` holds at its peak
 * beyond what was held before. It counts a reshaped view as bytes too: UNet.infer frees
 * its views at once, so that the count is the memory really held.
 */
async function measuredPeak(f: () => void | Promise<unknown>): Promise<number> {
  const before = tf.memory().numBytes;
  const profile = await tf.profile(async () => void (await f()));
  assert.equal(tf.memory().numBytes, before, 'nothing is left behind');
  return profile.peakBytes - before;
}

/** The estimate is within 1% of the measurement (measured: exact). */
function assertWithin(estimate: number, measured: number, what: string): void {
  assert.ok(Math.abs(estimate - measured) <= 0.01 * measured, `${what}: estimated ${estimate} bytes, measured ${measured}`);
}

test('the estimated peak of UNet.infer is tfjs\'s measured peak within 1%, for batches of 1 and 3 tiles', async () => {
  await useBackend('cpu');
  for (const [partial, width, height] of cases) {
    const net = UNet.create(partial, 1);
    for (const count of [1, 3]) {
      const x = tf.randomUniform([count, height, width, net.config.inputChannels], 0, 1, 'float32', 2) as tf.Tensor4D;
      const measured = await measuredPeak(() => net.infer(x).dispose());
      assertWithin(count * forwardPeakBytes(net.config, width, height), measured, `${JSON.stringify(partial)} ${height}x${width} x${count}`);
      x.dispose();
    }
    net.dispose();
  }
});

test('the estimated peak of a prediction with each augmentation is tfjs\'s measured peak within 1%', async () => {
  await useBackend('cpu');
  for (const [partial, width, height] of cases) {
    const net = UNet.create(partial, 1);
    const rng = createRng(3);
    const images = Float32Array.from({ length: 2 * height * width * net.config.inputChannels }, () => rng.next());
    const augmentations: Augmentation[] = width === height ? ['none', 'flips', 'dihedral'] : ['none', 'flips'];
    for (const tta of augmentations) {
      const measured = await measuredPeak(() => predictProbabilities(net, images, 2, width, tta, { height, budgetBytes: Infinity }));
      assertWithin(2 * predictionPeakBytes(net.config, width, height, tta), measured, `${JSON.stringify(partial)} ${height}x${width} ${tta}`);
    }
    net.dispose();
  }
});

test('at 572 px the paper network peaks where the up path joins level 3, with the three upper skips held', () => {
  for (const baseFilters of [16, 64]) {
    const config = unetConfig({ baseFilters });
    // Beside the input, its flipped copy and the running sum: skips of 568, 280 and 136 px
    // (f, 2f, 4f channels), the 56 px crop of the fourth skip and the up-convolution's
    // output (8f each) and their concatenation (16f). Level 0's first two maps come next:
    // 570 and 568 px with f channels, 1% less.
    const maps = 568 ** 2 + 2 * 280 ** 2 + 4 * 136 ** 2 + (8 + 8 + 16) * 56 ** 2;
    const expected = 4 * (2 * 572 ** 2 + 2 * 388 ** 2 + baseFilters * maps);
    assert.equal(predictionPeakBytes(config, 572, 572, 'dihedral'), expected, `${baseFilters} filters`);
  }
});
