import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crop, cropMirrored, mirrorIndex, mirrorPad, unpad, uniformMargins } from '../../src/kernels/mirror.js';
import { makeImage } from '../../src/image/image.js';
import { pixels, positionImage, randomImage } from '../helpers/images.js';

const row = (values: number[]) => makeImage(values.length, 1, 1, 'uint8', Uint8Array.from(values));

test('reflect mirrors without repeating the edge pixel (numpy reflect)', () => {
  // np.pad([1, 2, 3], 4, mode='reflect') -> [1 2 3 2 | 1 2 3 | 2 1 2 3]
  const padded = mirrorPad(row([1, 2, 3]), { top: 0, bottom: 0, left: 4, right: 4 }, 'reflect');
  assert.deepEqual(pixels(padded), [1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3]);
});

test('symmetric mirrors repeating the edge pixel (numpy symmetric)', () => {
  // np.pad([1, 2, 3], 4, mode='symmetric') -> [3 3 2 1 | 1 2 3 | 3 2 1 1]
  const padded = mirrorPad(row([1, 2, 3]), { top: 0, bottom: 0, left: 4, right: 4 }, 'symmetric');
  assert.deepEqual(pixels(padded), [3, 3, 2, 1, 1, 2, 3, 3, 2, 1, 1]);
});

test('a one-pixel-wide image mirrors to copies of that pixel in both modes', () => {
  for (const mode of ['reflect', 'symmetric'] as const) {
    assert.deepEqual(pixels(mirrorPad(row([7]), { top: 0, bottom: 0, left: 3, right: 2 }, mode)), [7, 7, 7, 7, 7, 7]);
  }
});

test('mirrorIndex agrees with a step-by-step reflection for any offset', () => {
  for (const n of [1, 2, 3, 5]) {
    for (const mode of ['reflect', 'symmetric'] as const) {
      for (let i = -40; i < 40; i++) {
        // Walk from 0 to i, bouncing off the borders one step at a time.
        let pos = 0;
        let dir = i >= 0 ? 1 : -1;
        let steps = Math.abs(i);
        const lo = mode === 'reflect' ? 0 : -0.5;
        const hi = mode === 'reflect' ? n - 1 : n - 0.5;
        let coord = 0;
        while (steps-- > 0) {
          coord += dir;
          if (coord > hi) {
            coord = 2 * hi - coord;
            dir = -dir;
          } else if (coord < lo) {
            coord = 2 * lo - coord;
            dir = -dir;
          }
        }
        pos = n === 1 ? 0 : Math.round(coord);
        assert.equal(mirrorIndex(i, n, mode), pos, `n=${n} i=${i} ${mode}`);
      }
    }
  }
});

test('a 60x60 crop gets the full 92 px margin of the paper network by repeated mirroring', () => {
  const image = positionImage(60, 60);
  const padded = mirrorPad(image, uniformMargins(92), 'reflect');
  assert.equal(padded.width, 244);
  assert.equal(padded.height, 244);
  // Pixel (-92, -92): reflect period 118, so -92 -> 26 (np.pad(np.arange(60), 92, mode='reflect')[0] == 26).
  assert.equal(padded.data[0], 26 * 1000 + 26);
  assert.deepEqual(pixels(unpad(padded, uniformMargins(92))), pixels(image));
});

test('multi-channel pixels are mirrored as whole pixels', () => {
  const rgb = makeImage(2, 1, 3, 'uint8', Uint8Array.from([1, 2, 3, 4, 5, 6]));
  const padded = mirrorPad(rgb, { top: 0, bottom: 0, left: 1, right: 1 }, 'reflect');
  assert.deepEqual(pixels(padded), [4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3]);
});

test('mirrorPad does not modify its input and rejects negative margins', () => {
  const image = randomImage(5, 4, 1, 'uint16');
  const before = pixels(image);
  mirrorPad(image, uniformMargins(9), 'symmetric');
  assert.deepEqual(pixels(image), before);
  assert.throws(() => mirrorPad(image, { top: -1, bottom: 0, left: 0, right: 0 }), /margin top must be a non-negative integer, got -1/);
});

test('crop refuses a rectangle outside the image and names it', () => {
  assert.throws(() => crop(positionImage(4, 4), { x: 2, y: 0, width: 3, height: 1 }), /crop 3x1 at \(2, 0\) does not fit in a 4x4 image/);
});

test('cropMirrored cuts from the original exactly what crop cuts from the mirrored copy, anywhere', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 3 }),
      fc.constantFrom('reflect', 'symmetric' as const),
      fc.record({ x: fc.integer({ min: -30, max: 30 }), y: fc.integer({ min: -30, max: 30 }), width: fc.integer({ min: 1, max: 30 }), height: fc.integer({ min: 1, max: 30 }) }),
      (width, height, channels, mode, rect) => {
        const image = randomImage(width, height, channels, 'uint16', width * 31 + height);
        // The reference: the image mirrored far enough that rect lies inside, then a plain crop.
        const m = 60;
        const padded = mirrorPad(image, uniformMargins(m), mode);
        const expected = crop(padded, { ...rect, x: rect.x + m, y: rect.y + m });
        assert.deepEqual(pixels(cropMirrored(image, rect, mode)), pixels(expected));
      },
    ),
    { numRuns: 300 },
  );
});

test('cropMirrored reads a 1-D reflection as numpy pads it', () => {
  // np.pad([1, 2, 3], 4, mode='reflect')[2:9] -> [3 2 1 2 3 2 1]; 'symmetric' -> [2 1 1 2 3 3 2]
  assert.deepEqual(pixels(cropMirrored(row([1, 2, 3]), { x: -2, y: 0, width: 7, height: 1 }, 'reflect')), [3, 2, 1, 2, 3, 2, 1]);
  assert.deepEqual(pixels(cropMirrored(row([1, 2, 3]), { x: -2, y: 0, width: 7, height: 1 }, 'symmetric')), [2, 1, 1, 2, 3, 3, 2]);
  assert.throws(() => cropMirrored(row([1]), { x: 0.5, y: 0, width: 2, height: 1 }), /cannot crop 2x1 at \(0.5, 0\)/);
});
