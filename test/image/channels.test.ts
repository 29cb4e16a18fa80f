import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickChannels, stackChannels } from '../../src/image/channels.js';
import { makeImage } from '../../src/image/image.js';

test('stacked images become the interleaved channels of one, in order', () => {
  const a = makeImage(2, 1, 1, 'uint16', Uint16Array.of(1, 2));
  const b = makeImage(2, 1, 2, 'uint16', Uint16Array.of(10, 11, 20, 21));
  const s = stackChannels([a, b]);
  assert.deepEqual([s.width, s.height, s.channels, s.dtype], [2, 1, 3, 'uint16']);
  assert.deepEqual(Array.from(s.data), [1, 10, 11, 2, 20, 21]);
  assert.throws(() => stackChannels([a, makeImage(1, 1, 1, 'uint16')]), /share size and type/);
});

test('picked channels come in the order asked for, and a missing one names the channels there are', () => {
  const rgb = makeImage(2, 1, 3, 'uint8', Uint8Array.of(1, 2, 3, 4, 5, 6));
  assert.deepEqual(Array.from(pickChannels(rgb, [2, 0]).data), [3, 1, 6, 4]);
  assert.deepEqual(Array.from(pickChannels(rgb, [1]).data), [2, 5]);
  assert.equal(pickChannels(rgb, [0, 1, 2]), rgb, 'all channels in order: the same image');
  assert.throws(() => pickChannels(rgb, [3]), /channel 3 does not exist: the image has 3 channels \(0-2\)/);
});
