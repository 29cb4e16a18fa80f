/**
 * A picture for people: the image as 8-bit RGB with the outlines of the segmented
 * objects drawn over it.
 */
import { toFloat32, toGrey, toInteger } from '../image/convert.js';
import { makeImage, sameSize, type Image } from '../image/image.js';

/** Pixels of a region that touch a different region (4-neighbourhood); background is never an outline. */
export function outlines(regions: Image): Uint8Array {
  const { width: w, height: h, data } = regions;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const v = data[i];
      if (v === 0) continue;
      if ((x > 0 && data[i - 1] !== v) || (x < w - 1 && data[i + 1] !== v) || (y > 0 && data[i - w] !== v) || (y < h - 1 && data[i + w] !== v)) {
        out[i] = 1;
      }
    }
  }
  return out;
}

/**
 * RGB overlay of `regions` (a mask or instance image) on `image`. 8-bit images are
 * shown as they are; others are stretched between their 0.5 and 99.5 percentiles.
 * @param colour outline colour @default [255, 215, 0] (gold)
 */
export function renderOverlay(image: Image, regions: Image, colour: readonly [number, number, number] = [255, 215, 0]): Image<'uint8'> {
  if (!sameSize(image, regions)) {
    throw new RangeError(`overlay: the regions are ${regions.width}x${regions.height}, the image ${image.width}x${image.height}`);
  }
  const grey = toGrey(image);
  const display = grey.dtype === 'uint8' ? grey : toInteger(toFloat32(grey, { method: 'percentile', low: 0.5, high: 99.5 }), 'uint8', 255);
  const edge = outlines(regions);
  const n = image.width * image.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const v = display.data[i];
    rgb[3 * i] = edge[i] ? colour[0] : v;
    rgb[3 * i + 1] = edge[i] ? colour[1] : v;
    rgb[3 * i + 2] = edge[i] ? colour[2] : v;
  }
  return makeImage(image.width, image.height, 3, 'uint8', rgb);
}
