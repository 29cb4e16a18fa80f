/**
 * Channels as a kernel sees them: several one-plane images side by side as the
 * channels of one (a multi-channel TIFF's pages), and a chosen few of an image's
 * channels, in the order asked for.
 */
import { allocate, makeImage, type Image } from './image.js';

/** The images' channels interleaved into one image, first image's first; all must share size and dtype. */
export function stackChannels(images: readonly Image[]): Image {
  const [first] = images;
  if (!first) throw new RangeError('stackChannels needs at least one image');
  for (const image of images) {
    if (image.width !== first.width || image.height !== first.height || image.dtype !== first.dtype) {
      throw new RangeError(`the channels must share size and type: ${image.width}x${image.height} ${image.dtype} against ${first.width}x${first.height} ${first.dtype}`);
    }
  }
  if (images.length === 1) return first;
  const pixels = first.width * first.height;
  const channels = images.reduce((n, image) => n + image.channels, 0);
  const out = allocate(first.dtype, pixels * channels);
  let offset = 0;
  for (const image of images) {
    const c = image.channels;
    for (let i = 0; i < pixels; i++) for (let k = 0; k < c; k++) out[i * channels + offset + k] = image.data[i * c + k];
    offset += c;
  }
  return makeImage(first.width, first.height, channels, first.dtype, out, first.sourceType);
}

/** The channels `indices` (0-based, any order, repeats allowed) of `image`. */
export function pickChannels(image: Image, indices: readonly number[]): Image {
  const missing = indices.find((k) => !(Number.isInteger(k) && k >= 0 && k < image.channels));
  if (missing !== undefined) {
    throw new RangeError(`channel ${missing} does not exist: the image has ${image.channels} channel${image.channels === 1 ? '' : 's'} (${image.channels === 1 ? '0' : `0-${image.channels - 1}`})`);
  }
  if (indices.length === image.channels && indices.every((k, i) => k === i)) return image;
  const pixels = image.width * image.height;
  const c = image.channels;
  const n = indices.length;
  const out = allocate(image.dtype, pixels * n);
  for (let i = 0; i < pixels; i++) for (let j = 0; j < n; j++) out[i * n + j] = image.data[i * c + indices[j]];
  return makeImage(image.width, image.height, n, image.dtype, out, image.sourceType);
}
