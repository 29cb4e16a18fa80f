/**
 * What is wrong with a TIFF that libvips refused (tiff-problems.ts), for a file on disk.
 */
import { openRegular } from './input-kind.js';
import { explainTiffAt } from './tiff-problems.js';

export { unsupportedSamples } from './tiff-problems.js';

/**
 * A one-line explanation, with what to do, of why the TIFF at `path` cannot be read:
 * a sample type unetflow does not support, or a file cut short. Undefined when its
 * first directory shows neither (the caller then reports libvips's own reason).
 */
export async function explainTiff(path: string): Promise<string | undefined> {
  const { handle: file } = await openRegular(path);
  try {
    const size = (await file.stat()).size;
    return await explainTiffAt(async (position, length) => {
      const buffer = new Uint8Array(length);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      return buffer.subarray(0, bytesRead);
    }, size);
  } finally {
    await file.close();
  }
}
