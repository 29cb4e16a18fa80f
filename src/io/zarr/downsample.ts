/**
 * One pyramid step: half the width and height (rounded up). Intensities and
 * probabilities take the mean of each 2 x 2 block (of the pixels inside the image, at
 * its odd edges); labels take the block's top-left pixel, since a mean of two labels
 * is a third, unrelated one.
 */
import { allocate, makeImage, type Image } from '../../image/image.js';

export type Downsampling = 'mean' | 'nearest';

export function halve(image: Image, how: Downsampling): Image {
  const { width, height, channels, dtype, data } = image;
  const [w, h] = [Math.ceil(width / 2), Math.ceil(height / 2)];
  const out = allocate(dtype, w * h * channels);
  const round = dtype !== 'float32';
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < channels; c++) {
        const at = (yy: number, xx: number) => data[(yy * width + xx) * channels + c];
        if (how === 'nearest') {
          out[(y * w + x) * channels + c] = at(2 * y, 2 * x);
          continue;
        }
        let sum = 0;
        let n = 0;
        for (let dy = 0; dy < 2 && 2 * y + dy < height; dy++) {
          for (let dx = 0; dx < 2 && 2 * x + dx < width; dx++, n++) sum += at(2 * y + dy, 2 * x + dx);
        }
        out[(y * w + x) * channels + c] = round ? Math.round(sum / n) : sum / n;
      }
    }
  }
  return makeImage(w, h, channels, dtype, out, image.sourceType);
}
