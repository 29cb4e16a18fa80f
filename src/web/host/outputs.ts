/**
 * Outputs in a page (src/host/outputs.ts): encoded by the page's encoders
 * (src/web/image/encode.ts), written atomically into the mounted output folder's handle
 * (src/web/host/folder.ts: a temporary name, then a move).
 */
import type { OutputWriter } from '../../host/outputs.js';
import { encodeImage } from '../image/encode.js';
import { mounted, type Mount } from './mounts.js';

export function folderOutputs(mounts: readonly Mount[]): OutputWriter {
  return {
    encode: encodeImage,
    write: async (path, data) => {
      const { folder, path: within } = mounted(mounts, path);
      await folder.writeAtomic(within, data);
    },
    remove: async (path) => {
      const { folder, path: within } = mounted(mounts, path);
      await folder.remove(within);
    },
  };
}
