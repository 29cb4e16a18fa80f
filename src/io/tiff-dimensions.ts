/**
 * The layout of a TIFF on disk (tiff-axes.ts reads it from the description), read from
 * its first directory's ImageDescription.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { SampleError, messageOf } from '../errors.js';
import { layoutFromDescription, type TiffLayout } from './tiff-axes.js';
import { ascii, readFirstDirectory } from './tiff-directory.js';

export { describeLayout, layoutFromDescription, pageOf, planesOf, type TiffLayout, type TiffPlane } from './tiff-axes.js';

const IMAGE_DESCRIPTION = 270;

/**
 * The layout of the TIFF at `path`, read from its first directory's ImageDescription;
 * undefined for plain files. A description whose sizes disagree with the file's pages is
 * a SampleError naming the file: guessing which page is which would mix channels up.
 */
export async function readTiffLayout(path: string, pages: number, samplesPerPage: number, step = 'load'): Promise<TiffLayout | undefined> {
  let description: string | undefined;
  try {
    const file = await open(path, 'r');
    try {
      const directory = await readFirstDirectory(file, (await file.stat()).size, [IMAGE_DESCRIPTION]);
      description = directory && 'fields' in directory ? ascii(directory.fields, IMAGE_DESCRIPTION) : undefined;
    } finally {
      await file.close();
    }
  } catch (error) {
    throw new SampleError({ step, file: path }, `cannot read the TIFF's image directory: ${messageOf(error)}`, { cause: error });
  }
  const layout = layoutFromDescription(description, pages, samplesPerPage, basename(path));
  if (typeof layout === 'string') throw new SampleError({ step, file: path }, layout);
  return layout;
}
