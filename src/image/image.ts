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

/**
 * Integer sample types that files hold and unetflow keeps as float32 data (exactly, up to
 * 2^24 in magnitude for int32 and uint32), with each type's nominal range: `dtype`
 * normalisation divides by the type's largest value, as for uint8 and uint16.
 */
export const sourceTypeRange = {
  int8: { min: -128, max: 127 },
  int16: { min: -32768, max: 32767 },
  int32: { min: -2147483648, max: 2147483647 },
  uint32: { min: 0, max: 4294967295 },
} as const;
export type SourceType = keyof typeof sourceTypeRange;

export interface Image<D extends DType = DType> {
  readonly width: number;
  readonly height: number;
  /** Interleaved channels per pixel: 1 for grayscale, K for class probabilities. */
  readonly channels: number;
  readonly dtype: D;
  /** Length width * height * channels; index (y * width + x) * channels + c. */
  readonly data: PixelArrays[D];
  /**
   * For float32 data read from an int8, int16, int32 or uint32 file: that type, whose
   * range `dtype` normalisation maps by. Kernels that move values (mirror, crop, warp)
   * keep it; conversions that change values drop it. Absent otherwise.
   */
  readonly sourceType?: SourceType;
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
  sourceType?: SourceType,
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
  if (sourceType === undefined) return { width, height, channels, dtype, data: pixels };
  if (dtype !== 'float32') throw new TypeError(`only float32 data can carry a source type, got ${dtype} data from ${sourceType}`);
  return { width, height, channels, dtype, data: pixels, sourceType };
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
  const from = image.sourceType ? ` (from ${image.sourceType})` : '';
  return `${image.width}x${image.height}, ${image.channels} channel${image.channels === 1 ? '' : 's'}, ${image.dtype}${from}`;
}

/** How many values are NaN and how many infinite (only float32 data can hold either). */
export function nonFinite(image: Image): { nan: number; infinite: number } {
  let nan = 0;
  let infinite = 0;
  if (image.dtype === 'float32') {
    for (const v of image.data) {
      if (v !== v) nan++;
      else if (v === Infinity || v === -Infinity) infinite++;
    }
  }
  return { nan, infinite };
}

/**
 * Precondition with a message that says what to do about it. `got` describes what the
 * image holds when its channel count alone would mislead (a file's alpha, dropped on read).
 */
export function requireChannels(image: Image, channels: number, what = 'image', got = `${image.channels}`): void {
  if (image.channels !== channels) {
    const hint = channels === 1 && image.channels >= 3 ? " — load it with `grey: true` to convert to grayscale" : '';
    throw new RangeError(`${what} must have ${channels} channel${channels === 1 ? '' : 's'}, got ${got}${hint}`);
  }
}

export function sameSize(a: Image, b: Image): boolean {
  return a.width === b.width && a.height === b.height;
}
