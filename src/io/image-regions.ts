/**
 * A page of an image file as a plane the blockwise kernels read region by region
 * (src/kernels/blockwise/region.ts): each region is decoded on its own, so a tiled TIFF
 * costs the tiles a region covers, not the whole image.
 */
import type { PlaneSource } from '../kernels/blockwise/region.js';
import { inspectImage, readImage, type ImageInfo } from './read.js';

export interface ImagePlaneOptions {
  /** @default 0 */
  readonly page?: number;
  /** @default 0 */
  readonly channel?: number;
  /** The step named in errors. @default 'load' */
  readonly step?: string;
}

export async function imagePlane(path: string, options: ImagePlaneOptions = {}): Promise<PlaneSource & { readonly info: ImageInfo }> {
  const { page = 0, channel = 0, step = 'load' } = options;
  const info = await inspectImage(path, step);
  if (!(Number.isInteger(channel) && channel >= 0 && channel < info.channels)) {
    throw new RangeError(`${path}: channel ${channel} does not exist: the image has ${info.channels} channel(s)`);
  }
  return {
    info,
    width: info.width,
    height: info.height,
    async read(region) {
      const image = await readImage(path, page, step, info, region);
      if (image.channels === 1) return image.data;
      return Float64Array.from({ length: image.width * image.height }, (_, i) => image.data[i * image.channels + channel]);
    },
  };
}
