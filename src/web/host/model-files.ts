/**
 * A model's files in a page (src/host/model-files.ts): from a folder handle (a model the
 * user picked), or from the URL the web app serves the shipped model under.
 */
import type { ModelFiles } from '../../host/model-files.js';
import type { HandleFolder } from './folder.js';

export class HandleModelFiles implements ModelFiles {
  readonly name: string;

  constructor(private readonly folder: HandleFolder) {
    this.name = folder.name;
  }

  async read(file: string): Promise<Uint8Array> {
    return this.folder.read(requireName(file, this.name));
  }
}

export class UrlModelFiles implements ModelFiles {
  readonly name: string;

  /** @param base the model folder's URL, e.g. `models/isbi2012-em/` (resolved against the page) */
  constructor(
    private readonly base: URL,
    private readonly fetchFile: (url: URL) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }> = (url) => fetch(url),
  ) {
    this.name = base.href.replace(/\/$/, '');
  }

  async read(file: string): Promise<Uint8Array> {
    const url = new URL(requireName(file, this.name), this.base.href.endsWith('/') ? this.base : new URL(`${this.base.href}/`));
    const response = await this.fetchFile(url).catch((error: unknown) => {
      throw new Error(`${url.href}: cannot be fetched (${(error as Error).message})`, { cause: error });
    });
    if (!response.ok) throw new Error(`${url.href}: ${response.status === 404 ? 'file not found (is this a model folder?)' : `HTTP ${response.status}`}`);
    return new Uint8Array(await response.arrayBuffer());
  }
}

function requireName(file: string, model: string): string {
  if (!file || file.includes('/') || file.includes('\\') || file === '..' || file === '.') throw new RangeError(`${JSON.stringify(file)} is not the name of a file in the model folder ${model}`);
  return file;
}
