/** Small deterministic test images. */
import { allocate, makeImage, type DType, type Image } from '../../src/image/image.js';
import { createRng } from '../../src/random.js';

export function randomImage<D extends DType>(width: number, height: number, channels: number, dtype: D, seed = 1): Image<D> {
  const rng = createRng(seed);
  const data = allocate(dtype, width * height * channels);
  const max = dtype === 'uint8' ? 256 : dtype === 'uint16' ? 65536 : 0;
  for (let i = 0; i < data.length; i++) data[i] = max ? rng.int(max) : rng.normal() * 100;
  return makeImage(width, height, channels, dtype, data);
}

/** An image whose pixel value encodes its position: y * 1000 + x (float32) — makes index errors obvious. */
export function positionImage(width: number, height: number): Image<'float32'> {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = y * 1000 + x;
  return makeImage(width, height, 1, 'float32', data);
}

export function pixels(image: Image): number[] {
  return Array.from(image.data);
}
