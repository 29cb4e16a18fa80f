/**
 * The image type every kernel and operator shares: interleaved pixels (row-major,
 * channels last), an explicit dtype, and the promise that nobody mutates `data`
 * once the image is built — kernels always return new images.
 */

export type DType = 'uint8' | 'uint16' | 'float32';

export interface PixelArrays {
  uint8: Uint8Array;
  uint16: Uint16Array;
  float32: Float32Array;
}
export type PixelArray = PixelArrays[DType];

export interface Image<D extends DType = DType> {
  readonly width: number;
  readonly height: number;
  /** Interleaved channels per pixel: 1 for grayscale, K for class probabilities. */
  readonly channels: number;
  readonly dtype: D;
  /** Length width * height * channels; index (y * width + x) * channels + c. */
  readonly data: PixelArrays[D];
}

const constructors = { uint8: Uint8Array, uint16: Uint16Array, float32: Float32Array } as const;

/** The largest value of an integer dtype; float32 images have no fixed range. */
export const dtypeMax: Record<DType, number> = { uint8: 255, uint16: 65535, float32: Infinity };

export function allocate<D extends DType>(dtype: D, length: number): PixelArrays[D] {
  return new constructors[dtype](length) as PixelArrays[D];
}

/** Wraps pixel data as an image, checking that the sizes agree. */
export function makeImage<D extends DType>(
  width: number,
  height: number,
  channels: number,
  dtype: D,
  data?: PixelArrays[D],
): Image<D> {
  for (const [name, v] of [['width', width], ['height', height], ['channels', channels]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`image ${name} must be a positive integer, got ${v}`);
  }
  const length = width * height * channels;
  const pixels = data ?? allocate(dtype, length);
  if (pixels.length !== length) {
    throw new RangeError(`image data has ${pixels.length} values, expected ${width}x${height}x${channels} = ${length}`);
  }
  if (!(pixels instanceof constructors[dtype])) {
    throw new TypeError(`image data must be a ${constructors[dtype].name} for dtype ${dtype}`);
  }
  return { width, height, channels, dtype, data: pixels };
}

/** An empty image shaped like `like`, optionally with another dtype or channel count. */
export function blankLike<D extends DType>(like: Image, dtype: D, channels = like.channels): Image<D> {
  return makeImage(like.width, like.height, channels, dtype);
}

export function dtypeOf(data: PixelArray): DType {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Uint16Array) return 'uint16';
  return 'float32';
}

export function describe(image: Image): string {
  return `${image.width}x${image.height}, ${image.channels} channel${image.channels === 1 ? '' : 's'}, ${image.dtype}`;
}

/** Precondition with a message that says what to do about it. */
export function requireChannels(image: Image, channels: number, what = 'image'): void {
  if (image.channels !== channels) {
    const hint = channels === 1 && image.channels >= 3 ? " — load it with `grey: true` to convert to grayscale" : '';
    throw new RangeError(`${what} must have ${channels} channel${channels === 1 ? '' : 's'}, got ${image.channels}${hint}`);
  }
}

export function sameSize(a: Image, b: Image): boolean {
  return a.width === b.width && a.height === b.height;
}
