/**
 * Binary foreground masks (1 = foreground) from the images that metrics compare: a
 * label, a class mask, class probabilities, or any grey image and a threshold.
 */
import { requireChannels, type Image } from '../../image/image.js';

/**
 * 1 where `keep` holds. A loop, not `Uint8Array.from(values, fn)`, which first makes a
 * JavaScript array of every value (some 40 bytes a pixel: out of heap on a 12000² image).
 */
export function binaryWhere(values: ArrayLike<number>, keep: (v: number) => boolean): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = keep(values[i]) ? 1 : 0;
  return out;
}

/** Pixels of a single-channel image whose value is greater than `threshold`. */
export function foregroundAbove(image: Image, threshold: number, what = 'image'): Uint8Array {
  requireChannels(image, 1, what);
  return binaryWhere(image.data, (v) => v > threshold);
}

/** Pixels of a class mask (class index per pixel) that hold class `cls`. */
export function foregroundOfClass(mask: Image, cls: number): Uint8Array {
  requireChannels(mask, 1, 'the mask');
  return binaryWhere(mask.data, (v) => v === cls);
}

/** Pixels whose probability of class `cls` is at least `at` (like the threshold operator). */
export function foregroundOfProbability(probabilities: Image, cls: number, at: number): Uint8Array {
  return binaryWhere(probabilityOfClass(probabilities, cls), (p) => p >= at);
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
