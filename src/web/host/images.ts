/**
 * Images in a page as an ImageReader (src/host/images.ts): a file's bytes from the folder
 * mounted where its page path lies (e.g. the picked input folder at `/input`), decoded by
 * the page's decoders (src/web/image/decode.ts), which give Node's answers. `load` asks
 * for a file's header and then its pages: the bytes of the file in hand are kept for
 * that, and let go when another file is asked for.
 */
import type { ImageReader } from '../../host/images.js';
import { SampleError } from '../../errors.js';
import { inspectImageBytes, readImageBytes, readTiffLayoutBytes } from '../image/decode.js';
import { mounted, type Mount } from './mounts.js';

export class FolderImages implements ImageReader {
  private held?: { readonly path: string; readonly bytes: Promise<Uint8Array> };

  constructor(private readonly mounts: readonly Mount[]) {}

  async inspect(path: string, step: string) {
    return inspectImageBytes(await this.bytes(path, step), path, step);
  }

  async read(path: string, page: number, step: string, info: Parameters<ImageReader['read']>[3]) {
    return readImageBytes(await this.bytes(path, step), path, page, step, info);
  }

  async layout(path: string, pages: number, samplesPerPage: number, step: string) {
    return readTiffLayoutBytes(await this.bytes(path, step), path, pages, samplesPerPage, step);
  }

  private bytes(path: string, step: string): Promise<Uint8Array> {
    if (this.held?.path !== path) this.held = { path, bytes: this.fetch(path, step) };
    const held = this.held;
    held.bytes.catch(() => {
      if (this.held === held) this.held = undefined;
    });
    return held.bytes;
  }

  private async fetch(path: string, step: string): Promise<Uint8Array> {
    try {
      const { folder, path: within } = mounted(this.mounts, path);
      return await folder.read(within);
    } catch (error) {
      throw new SampleError({ step, file: path }, `cannot be read: ${(error as Error).message}`, { cause: error });
    }
  }
}
