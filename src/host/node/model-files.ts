/** A model folder on disk as ModelFiles (src/host/model-files.ts). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelFiles } from '../model-files.js';

export class ModelFolder implements ModelFiles {
  constructor(readonly name: string) {}

  async read(file: string): Promise<Uint8Array> {
    if (file.includes('/') || file.includes('\\') || file === '..') throw new RangeError(`${JSON.stringify(file)} is not the name of a file in the model folder ${this.name}`);
    try {
      return new Uint8Array(await readFile(join(this.name, file)));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Error(`${join(this.name, file)}: file not found (is ${this.name} a model folder?)`, { cause: error });
      throw error;
    }
  }
}
