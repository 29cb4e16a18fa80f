/**
 * What the page-side operator tests run in the page: the CLI's `load` (and `save`, when
 * asked) on folders of the origin-private file system, mounted at /input and /output,
 * through the page's image reader and output writer.
 */
import { lastValueFrom, from, toArray, type Observable, type OperatorFunction } from 'rxjs';
import { load } from '../../../operators/load.js';
import { save } from '../../../operators/save.js';
import type { SampleError } from '../../../src/errors.js';
import type { Sample } from '../../../src/sample.js';
import { HandleFolder } from '../../../src/web/host/folder.js';
import { FolderImages } from '../../../src/web/host/images.js';
import { folderOutputs } from '../../../src/web/host/outputs.js';
import { sha256Hex } from '../../../src/web/host/ledger.js';

declare const navigator: { storage: { getDirectory(): Promise<any> } };

(globalThis as { loadInPage?: unknown }).loadInPage = async (files: Record<string, number[]>, params: object, saveParams?: { dir: string; outputs: string[] }) => {
  const root = await navigator.storage.getDirectory();
  const input = new HandleFolder(await root.getDirectoryHandle('load-input', { create: true }), 'input');
  const output = new HandleFolder(await root.getDirectoryHandle('load-output', { create: true }), 'output');
  for (const [name, bytes] of Object.entries(files)) await input.writeAtomic(name, new Uint8Array(bytes));
  const failures: string[] = [];
  const mounts = [{ at: '/input', folder: input }, { at: '/output', folder: output }];
  const ctx = { images: new FolderImages(mounts), outputs: folderOutputs(mounts), baseDir: '/pipelines', onSampleError: (e: SampleError) => failures.push(e.message) };
  const steps: OperatorFunction<any, Sample>[] = [load(params, { ...ctx, step: 'steps[0].load' })];
  if (saveParams) steps.push(save(saveParams as never, { ...ctx, step: 'steps[1].save' }));
  const refs: Observable<any> = from(Object.keys(files).sort().map((name) => ({ path: `/input/${name}` })));
  const samples: Sample[] = await lastValueFrom(steps.reduce((o, op) => o.pipe(op), refs).pipe(toArray()));
  const out = [];
  for (const s of samples) {
    const data = s.image.data;
    const written: Record<string, number[]> = {};
    for (const [name, path] of Object.entries((s.metadata?.outputs ?? {}) as Record<string, string>)) written[name] = [...(await output.read(path.replace(/^\/output\//, '')))];
    out.push({ id: s.id, width: s.image.width, height: s.image.height, channels: s.image.channels, dtype: s.image.dtype, pixelSize: s.metadata?.pixelSize, sha256: await sha256Hex(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)), outputs: s.metadata?.outputs, written });
  }
  return { samples: out, failures };
};
