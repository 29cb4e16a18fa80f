/**
 * Binary foreground masks (1 = foreground) from the images that metrics compare: a
 * label, a class mask, class probabilities, or any grey image and a threshold.
 */
import { requireChannels, type Image } from '../../image/image.js';

/** Pixels of a single-channel image whose value is greater than `threshold`. */
export function foregroundAbove(image: Image, threshold: number, what = 'image'): Uint8Array {
  requireChannels(image, 1, what);
  return Uint8Array.from(image.data, (v) => (v > threshold ? 1 : 0));
}

/** Pixels of a class mask (class index per pixel) that hold class `cls`. */
export function foregroundOfClass(mask: Image, cls: number): Uint8Array {
  requireChannels(mask, 1, 'the mask');
  return Uint8Array.from(mask.data, (v) => (v === cls ? 1 : 0));
}

/** Pixels whose probability of class `cls` is at least `at` (like the threshold operator). */
export function foregroundOfProbability(probabilities: Image, cls: number, at: number): Uint8Array {
  return Uint8Array.from(probabilityOfClass(probabilities, cls), (p) => (p >= at ? 1 : 0));
}

/** The probability of class `cls` per pixel, from class probabilities (one channel per class). */
export function probabilityOfClass(probabilities: Image, cls: number): Float32Array {
  requireClass(probabilities, cls);
  const k = probabilities.channels;
  const n = probabilities.width * probabilities.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = probabilities.data[i * k + cls];
  return out;
}

/** Refuses a class that the probabilities (one channel per class) do not have. */
export function requireClass(probabilities: Image, cls: number): void {
  const k = probabilities.channels;
  if (cls >= k) throw new RangeError(`class ${cls} does not exist: the probabilities have ${k} classes (0-${k - 1})`);
}
