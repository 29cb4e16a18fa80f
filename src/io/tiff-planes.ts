/**
 * Reading one z/t plane of a multi-channel or z/t TIFF (tiff-dimensions.ts): the pages
 * of its channels, interleaved, or of the chosen channels only, in the order chosen.
 */
import { pickChannels, stackChannels } from '../image/channels.js';
import type { Image } from '../image/image.js';
import { readImage, type ImageInfo } from './read.js';
import { describeLayout, pageOf, type TiffLayout, type TiffPlane } from './tiff-dimensions.js';

/**
 * A reader of the planes of the TIFF at `path` keeping channels `pick` (0-based, all when
 * absent), its pages read by `read` (sharp's, or the page's decoders). A channel the
 * file lacks is an error now, before any plane is read.
 */
export function planeReader(
  path: string,
  info: ImageInfo,
  layout: TiffLayout,
  pick: readonly number[] | undefined,
  step: string,
  read: (path: string, page: number, step: string, info: ImageInfo) => Promise<Image> = readImage,
): (plane: TiffPlane) => Promise<Image> {
  // Channel k lies on channel page k / samples per page, as sample k % samples per page.
  const perPage = info.channels;
  const available = layout.channelPages * perPage;
  const absent = pick?.find((k) => k >= available);
  if (absent !== undefined) throw new RangeError(`channel ${absent} does not exist: the file has ${available} channels (0-${available - 1}) per plane, ${describeLayout(layout)}`);
  const pages = pick ? [...new Set(pick.map((k) => Math.floor(k / perPage)))].sort((a, b) => a - b) : Array.from({ length: layout.channelPages }, (_, c) => c);
  const within = pick?.map((k) => pages.indexOf(Math.floor(k / perPage)) * perPage + (k % perPage));
  return async (plane) => {
    const images: Image[] = [];
    for (const c of pages) images.push(await read(path, pageOf(layout, c, plane.z, plane.t), step, info));
    const stacked = stackChannels(images);
    return within ? pickChannels(stacked, within) : stacked;
  };
}
