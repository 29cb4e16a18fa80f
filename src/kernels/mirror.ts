/**
 * Mirror extrapolation (paper, Fig. 2): the missing context around an image is the
 * image reflected at its borders. Margins larger than the image repeat the mirroring,
 * so a 60x60 crop still gets the 92 px margin of a 572 -> 388 network.
 */
import { allocate, makeImage, type DType, type Image } from '../image/image.js';

/**
 * - `reflect`: the edge pixel is not repeated: ... c b | a b c | b a ...
 *   (numpy `reflect`, scipy.ndimage `mirror`, OpenCV BORDER_REFLECT_101).
 * - `symmetric`: the edge pixel is repeated: ... b a | a b c | c b ...
 *   (numpy `symmetric`, scipy.ndimage `reflect`, sharp's `extendWith: 'mirror'`).
 */
export type MirrorMode = 'reflect' | 'symmetric';

/** Index in [0, n) that position i (any integer) mirrors onto. */
export function mirrorIndex(i: number, n: number, mode: MirrorMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'reflect') {
    if (n === 1) return 0;
    const period = 2 * n - 2;
    const j = ((i % period) + period) % period;
    return j < n ? j : period - j;
  }
  const period = 2 * n;
  const j = ((i % period) + period) % period;
  return j < n ? j : period - 1 - j;
}

/** How far, px, an image reaches (or is to reach) beyond its original on each side. */
export interface Margins {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

export function uniformMargins(m: number): Margins {
  return { top: m, bottom: m, left: m, right: m };
}

/** Pads `image` by mirroring; margins may exceed the image size. */
export function mirrorPad<D extends DType>(image: Image<D>, margins: Margins, mode: MirrorMode = 'reflect'): Image<D> {
  for (const [side, m] of Object.entries(margins)) {
    if (!Number.isInteger(m) || m < 0) throw new RangeError(`mirror margin ${side} must be a non-negative integer, got ${m}`);
  }
  const width = image.width + margins.left + margins.right;
  const height = image.height + margins.top + margins.bottom;
  return cropMirrored(image, { x: -margins.left, y: -margins.top, width, height }, mode);
}

/**
 * Copies a rectangle of the image as if it were mirrored out without end: the
 * rectangle may reach any distance outside the image, and what lies outside is read
 * through mirrored indices. A tile of a mirrored image is cut this way straight from
 * the original, so no mirrored copy of the whole image is ever made.
 */
export function cropMirrored<D extends DType>(image: Image<D>, rect: Rect, mode: MirrorMode = 'reflect'): Image<D> {
  const { x, y, width: outW, height: outH } = rect;
  if (![x, y, outW, outH].every(Number.isInteger) || outW < 1 || outH < 1) {
    throw new RangeError(`cannot crop ${outW}x${outH} at (${x}, ${y}): integer position and positive size needed`);
  }
  const { width, height, channels: c } = image;
  const out = allocate(image.dtype, outW * outH * c);
  const src = image.data;
  // Columns inside the image are one contiguous copy per row; the others go through a column map.
  const inLeft = Math.min(outW, Math.max(0, -x));
  const inRight = Math.max(inLeft, Math.min(outW, width - x));
  const colMap = new Int32Array(outW);
  for (let i = 0; i < outW; i++) colMap[i] = mirrorIndex(x + i, width, mode);
  const rowLen = width * c;
  for (let r = 0; r < outH; r++) {
    const srcRow = mirrorIndex(y + r, height, mode) * rowLen;
    const dstRow = r * outW * c;
    if (inRight > inLeft) out.set(src.subarray(srcRow + (x + inLeft) * c, srcRow + (x + inRight) * c), dstRow + inLeft * c);
    for (let i = 0; i < inLeft; i++) copyPixel(src, srcRow + colMap[i] * c, out, dstRow + i * c, c);
    for (let i = inRight; i < outW; i++) copyPixel(src, srcRow + colMap[i] * c, out, dstRow + i * c, c);
  }
  return makeImage(outW, outH, c, image.dtype, out, image.sourceType);
}

function copyPixel(src: ArrayLike<number>, from: number, dst: { [i: number]: number }, to: number, c: number): void {
  for (let k = 0; k < c; k++) dst[to + k] = src[from + k];
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Copies a rectangle that lies inside the image. */
export function crop<D extends DType>(image: Image<D>, rect: Rect): Image<D> {
  const { x, y, width, height } = rect;
  if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > image.width || y + height > image.height) {
    throw new RangeError(
      `crop ${width}x${height} at (${x}, ${y}) does not fit in a ${image.width}x${image.height} image`,
    );
  }
  const c = image.channels;
  const out = allocate(image.dtype, width * height * c);
  for (let r = 0; r < height; r++) {
    const from = ((y + r) * image.width + x) * c;
    out.set(image.data.subarray(from, from + width * c), r * width * c);
  }
  return makeImage(width, height, c, image.dtype, out, image.sourceType);
}

/** Removes mirrored margins again. */
export function unpad<D extends DType>(image: Image<D>, margins: Margins): Image<D> {
  return crop(image, {
    x: margins.left,
    y: margins.top,
    width: image.width - margins.left - margins.right,
    height: image.height - margins.top - margins.bottom,
  });
}
