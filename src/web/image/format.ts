/**
 * Which format a file's first bytes say it is, as libvips tells them apart: the page has
 * no file name extension to trust (a picked file may be named anything).
 */
import { looksLikeTiff } from '../../io/tiff-directory.js';

export type ImageFormat = 'png' | 'jpeg' | 'tiff';

export function formatOf(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && looksLikeTiff(bytes)) return 'tiff';
  return undefined;
}
