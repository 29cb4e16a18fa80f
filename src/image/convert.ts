/**
 * Explicit dtype and channel conversions. Nothing in unetflow converts silently:
 * a float32 network input is made here, with the normalisation named.
 */
import { allocate, makeImage, sourceTypeRange, type DType, type Image } from './image.js';

/**
 * How intensities map to float32.
 * - `none`: values kept as they are (uint16 4000 stays 4000.0).
 * - `dtype`: divided by the dtype's maximum (255 or 65535), giving [0, 1]; float32 data
 *   read from an int8 / int16 / int32 / uint32 file by that type's maximum (127, 32767,
 *   2^31 - 1, 2^32 - 1), giving [-1, 1] for signed types as scikit-image's
 *   `img_as_float` does; other float32 data is taken as already in range.
 * - `minmax`: the image's own min -> 0 and max -> 1 (a constant image becomes 0).
 * - `percentile`: the `low` and `high` percentiles (defaults 1 and 99.8) -> 0 and 1,
 *   values outside clipped — robust to hot pixels and to an 8-bit range stored in 16 bits.
 * - `range`: the fixed `min` -> 0 and `max` -> 1, values outside clipped.
 */
export type Normalisation =
  | { method: 'none' }
  | { method: 'dtype' }
  | { method: 'minmax' }
  | { method: 'percentile'; low?: number; high?: number }
  | { method: 'range'; min: number; max: number };

/** Converts to float32, mapping intensities as `normalisation` says (all channels together). */
export function toFloat32(image: Image, normalisation: Normalisation = { method: 'none' }): Image<'float32'> {
  const src = image.data;
  const out = new Float32Array(src.length);
  const [lo, hi, clip] = bounds(image, normalisation);
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  for (let i = 0; i < src.length; i++) {
    let v = (src[i] - lo) * scale;
    if (clip) v = v < 0 ? 0 : v > 1 ? 1 : v;
    out[i] = normalisation.method === 'none' ? src[i] : v;
  }
  // `none` keeps the values, so they keep their source type's range.
  const sourceType = normalisation.method === 'none' ? image.sourceType : undefined;
  return makeImage(image.width, image.height, image.channels, 'float32', out, sourceType);
}

function bounds(image: Image, n: Normalisation): [lo: number, hi: number, clip: boolean] {
  switch (n.method) {
    case 'none':
      return [0, 1, false];
    case 'dtype':
      if (image.dtype === 'float32') return [0, image.sourceType ? sourceTypeRange[image.sourceType].max : 1, false];
      return [0, image.dtype === 'uint8' ? 255 : 65535, false];
    case 'minmax': {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of image.data) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      return [lo, hi, false];
    }
    case 'percentile': {
      const low = n.low ?? 1;
      const high = n.high ?? 99.8;
      if (!(low >= 0 && high <= 100 && low < high)) {
        throw new RangeError(`percentile normalisation needs 0 <= low < high <= 100, got low ${low}, high ${high}`);
      }
      const sorted = Float64Array.from(image.data).sort();
      return [quantile(sorted, low / 100), quantile(sorted, high / 100), true];
    }
    case 'range':
      if (!(n.max > n.min)) throw new RangeError(`range normalisation needs max > min, got min ${n.min}, max ${n.max}`);
      return [n.min, n.max, true];
  }
}

/** Linear-interpolated quantile of sorted values (numpy's default method). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const j = Math.min(i + 1, sorted.length - 1);
  return sorted[i] + (sorted[j] - sorted[i]) * (pos - i);
}

/**
 * Converts to an integer dtype by rounding and clamping — no rescaling. Use `scale`
 * (e.g. 255 for a [0, 1] probability map) to rescale before rounding.
 */
export function toInteger<D extends 'uint8' | 'uint16'>(image: Image, dtype: D, scale = 1): Image<D> {
  const max = dtype === 'uint8' ? 255 : 65535;
  const out = allocate(dtype, image.data.length);
  const src = image.data;
  for (let i = 0; i < src.length; i++) {
    const v = Math.round(src[i] * scale);
    out[i] = v < 0 || Number.isNaN(v) ? 0 : v > max ? max : v;
  }
  return makeImage(image.width, image.height, image.channels, dtype, out);
}

export function convert(image: Image, dtype: DType): Image {
  if (image.dtype === dtype) return image;
  return dtype === 'float32' ? toFloat32(image) : toInteger(image, dtype);
}

/** ITU-R BT.601 luma of the first three channels (what sharp's greyscale uses); 1 channel passes through. */
export function toGrey(image: Image): Image {
  if (image.channels === 1) return image;
  if (image.channels < 3) return extractChannel(image, 0);
  const n = image.width * image.height;
  const c = image.channels;
  const out = allocate(image.dtype, n);
  const src = image.data;
  const integer = image.dtype !== 'float32';
  for (let i = 0; i < n; i++) {
    const v = 0.299 * src[i * c] + 0.587 * src[i * c + 1] + 0.114 * src[i * c + 2];
    out[i] = integer ? Math.round(v) : v;
  }
  return makeImage(image.width, image.height, 1, image.dtype, out, image.sourceType);
}

export function extractChannel<D extends DType>(image: Image<D>, channel: number): Image<D> {
  if (!(channel >= 0 && channel < image.channels)) {
    throw new RangeError(`channel ${channel} does not exist in an image with ${image.channels} channels`);
  }
  const n = image.width * image.height;
  const out = allocate(image.dtype, n);
  for (let i = 0; i < n; i++) out[i] = image.data[i * image.channels + channel];
  return makeImage(image.width, image.height, 1, image.dtype, out, image.sourceType);
}
