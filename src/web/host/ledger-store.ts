/**
 * A ledger kept as a file of a page's output folder (src/host/ledger-store.ts), the same
 * file and lines the CLI keeps. The File System Access API cannot append: an append
 * opens the file keeping its data, writes past its end and closes it, and the browser
 * swaps the whole file in at close (a tab closed mid-append leaves the ledger as it was).
 * Appends and replacements run one at a time, in order.
 */
import { splitPath } from '../../host/folder.js';
import type { LedgerStore } from '../../host/ledger-store.js';
import { HandleFolder } from './folder.js';
import { isNotFound } from './handles.js';

export class FolderLedgerStore implements LedgerStore {
  readonly name: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly folder: HandleFolder,
    private readonly path: string,
  ) {
    this.name = `${folder.name}/${path}`;
  }

  async read(): Promise<Uint8Array> {
    await this.queue.catch(() => undefined);
    return (await this.folder.stat(this.path)) ? this.folder.read(this.path) : new Uint8Array(0);
  }

  append(text: string): Promise<void> {
    return this.serial(async () => {
      const { folders, name } = splitPath(this.path);
      let dir = this.folder.handle;
      for (const f of folders) dir = await dir.getDirectoryHandle(f, { create: true });
      const handle = await dir.getFileHandle(name, { create: true });
      const { size } = await handle.getFile();
      const writable = await handle.createWritable({ keepExistingData: true });
      try {
        await writable.seek(size);
        await writable.write(text);
      } catch (error) {
        await writable.abort().catch(() => undefined);
        throw error;
      }
      await writable.close();
    });
  }

  replace(text: string): Promise<void> {
    return this.serial(() => this.folder.writeAtomic(this.path, text));
  }

  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.queue.catch(() => undefined).then(work);
    this.queue = next;
    return next.catch((error: unknown) => {
      throw isNotFound(error) ? new Error(`the ledger ${this.name}: its folder is gone`, { cause: error }) : error;
    });
  }
}
