/** Images on disk read with sharp (src/io/read.ts) as an ImageReader (src/host/images.ts). */
import { inspectImage, readImage } from '../../io/read.js';
import { readTiffLayout } from '../../io/tiff-dimensions.js';
import type { ImageReader } from '../images.js';

export const nodeImages: ImageReader = {
  inspect: inspectImage,
  read: readImage,
  layout: readTiffLayout,
};
