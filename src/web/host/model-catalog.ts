/**
 * The model catalog in a page (src/host/model-files.ts's ModelCatalog): the steps ask
 * for model metadata synchronously while the pipeline compiles, and a page can only
 * fetch or read a handle asynchronously, so the runner reads the metadata.json of every
 * model folder the pipeline names first (`preload`) and the catalog answers from that.
 * A folder with no metadata.json answers as a missing file does in Node (code ENOENT),
 * so that the step's message is the CLI's.
 *
 * Where the models are: the page's paths put the pipeline at `/pipelines/<name>`, so the
 * shipped pipelines' `model: ../models/isbi2012-em` is `/models/isbi2012-em`, found below
 * the models root: the web app's URL (its build has models/ there) or a folder handle.
 */
import type { ModelCatalog, ModelFiles } from '../../host/model-files.js';
import { onnxRuntime } from '../../model/engines/onnxruntime.js';
import { WASM_HEAP_BYTES } from '../../model/engines/wasm.js';
import { HandleFolder } from './folder.js';
import type { DirectoryHandle } from './handles.js';
import { HandleModelFiles, UrlModelFiles } from './model-files.js';

/** Where model folders are found: below a URL (the web app's own), or below a folder handle. */
export type ModelsRoot = URL | DirectoryHandle;

/** The model folder at the page path `dir` (e.g. `/models/isbi2012-em`) as ModelFiles. */
export function modelFilesAt(root: ModelsRoot, dir: string): ModelFiles {
  const parts = dir.split('/').filter(Boolean);
  if (root instanceof URL) return new UrlModelFiles(new URL(parts.map(encodeURIComponent).join('/') + '/', root.href.endsWith('/') ? root : `${root.href}/`));
  const folder = new HandleFolder(root, root.name);
  return new HandleModelFiles(subfolder(folder, parts));
}

/** A folder below a handle folder, opened lazily (reads of it fail naming the file when it is not there). */
function subfolder(folder: HandleFolder, parts: readonly string[]): HandleFolder {
  const name = [folder.name, ...parts].join('/');
  const root = folder.handle;
  const lazy: DirectoryHandle = {
    kind: 'directory',
    name,
    getDirectoryHandle: async (n, o) => (await open()).getDirectoryHandle(n, o),
    getFileHandle: async (n, o) => (await open()).getFileHandle(n, o),
    removeEntry: async (n, o) => (await open()).removeEntry(n, o),
    entries: () => ({ [Symbol.asyncIterator]: async function* () { yield* (await open()).entries(); } }),
  };
  const open = async () => {
    let dir = root;
    for (const p of parts) dir = await dir.getDirectoryHandle(p);
    return dir;
  };
  return new HandleFolder(lazy, name);
}

export class PreloadedModelCatalog implements ModelCatalog {
  private constructor(private readonly metadata: ReadonlyMap<string, string | Error>) {}

  /** Reads metadata.json of each model folder in `dirs` (page paths) below `root`. */
  static async preload(root: ModelsRoot, dirs: Iterable<string>): Promise<PreloadedModelCatalog> {
    const metadata = new Map<string, string | Error>();
    for (const dir of new Set(dirs)) {
      try {
        metadata.set(dir, new TextDecoder().decode(await modelFilesAt(root, dir).read('metadata.json')));
      } catch (error) {
        const missing = /file not found/.test((error as Error).message);
        metadata.set(dir, Object.assign(new Error(missing ? 'file not found' : (error as Error).message), missing ? { code: 'ENOENT' } : {}));
      }
    }
    return new PreloadedModelCatalog(metadata);
  }

  metadataText(dir: string): string {
    const found = this.metadata.get(dir);
    if (found === undefined) throw Object.assign(new Error(`${dir} was not read before the pipeline compiled`), { code: 'ENOENT' });
    if (found instanceof Error) throw found;
    return found;
  }

  /**
   * The page runs models on ONNX Runtime Web, whose wasm heap holds at most 4 GiB: the
   * smaller of ONNX Runtime's own budget and the wasm heap's, whatever the choice
   * (WebGPU's tensors are staged through the same heap).
   */
  plannedBudget(_choice: string, weightBytes: number): number {
    return Math.min(onnxRuntime.ownBudget(weightBytes), (0.75 * WASM_HEAP_BYTES - 2 * weightBytes) / 1.5);
  }
}
