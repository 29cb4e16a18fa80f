/**
 * Reading image files, whatever decodes them: sharp on disk in Node (src/io/read.ts),
 * the page's decoders on a folder handle's bytes in a page (src/web/image/decode.ts).
 * Both give the same ImageInfo, pixels, pixel sizes, layouts and errors (SampleErrors
 * naming the file and the step), so `load` is one operator on either host.
 */
import type { Image } from '../image/image.js';
import type { ImageInfo } from '../io/read.js';
import type { TiffLayout } from '../io/tiff-axes.js';

export interface ImageReader {
  /** Size, sample type, pages and pixel size, without decoding pixels. */
  inspect(path: string, step: string): Promise<ImageInfo>;
  /** One page's pixels. */
  read(path: string, page: number, step: string, info: ImageInfo): Promise<Image>;
  /** A TIFF's pages as channels and z/t planes, when its description lays them out so. */
  layout(path: string, pages: number, samplesPerPage: number, step: string): Promise<TiffLayout | undefined>;
}
