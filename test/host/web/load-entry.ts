/**
 * What the page-side `load` test runs in the page: the CLI's `load` operator reading a
 * folder of the origin-private file system through the page's image reader.
 */
import { lastValueFrom, from, toArray } from 'rxjs';
import { load } from '../../../operators/load.js';
import type { SampleError } from '../../../src/errors.js';
import { HandleFolder } from '../../../src/web/host/folder.js';
import { FolderImages } from '../../../src/web/host/images.js';
import { sha256Hex } from '../../../src/web/host/ledger.js';

declare const navigator: { storage: { getDirectory(): Promise<any> } };

(globalThis as { loadInPage?: unknown }).loadInPage = async (files: Record<string, number[]>, params: object) => {
  const root = await navigator.storage.getDirectory();
  const folder = new HandleFolder(await root.getDirectoryHandle('load-input', { create: true }), 'input');
  for (const [name, bytes] of Object.entries(files)) await folder.writeAtomic(name, new Uint8Array(bytes));
  const failures: string[] = [];
  const images = new FolderImages([{ at: '/input', folder }]);
  const samples = await lastValueFrom(
    from(Object.keys(files).sort().map((name) => ({ path: `/input/${name}` }))).pipe(
      load(params, { images, step: 'steps[0].load', onSampleError: (e: SampleError) => failures.push(e.message) }),
      toArray(),
    ),
  );
  const out = [];
  for (const s of samples) {
    const data = s.image.data;
    out.push({ id: s.id, width: s.image.width, height: s.image.height, channels: s.image.channels, dtype: s.image.dtype, pixelSize: s.metadata?.pixelSize, sha256: await sha256Hex(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) });
  }
  return { samples: out, failures };
};
