/**
 * A folder on disk as a Folder (src/host/folder.ts): listing, reading and stat through
 * the CLI's own input checks (src/io/input-kind.ts: only regular files, or links to
 * them, are files; a FIFO is never opened), atomic writes through src/io/atomic.ts.
 */
import { readdir, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { openRegular, requireRegular } from '../../io/input-kind.js';
import { splitPath, type FileStat, type Folder, type FolderEntry } from '../folder.js';

export class NodeFolder implements Folder {
  constructor(readonly name: string) {}

  async list(options: { readonly recursive?: boolean } = {}): Promise<FolderEntry[]> {
    const found: FolderEntry[] = [];
    const visit = async (dir: string) => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (options.recursive) await visit(path);
          continue;
        }
        const s = await requireRegular(path).catch(() => undefined);
        if (s) found.push({ path: relative(this.name, path).split(sep).join('/'), size: s.size, mtimeMs: s.mtimeMs });
      }
    };
    await visit(this.name);
    return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async stat(path: string): Promise<FileStat | undefined> {
    try {
      const s = await requireRegular(this.resolve(path));
      return { size: s.size, mtimeMs: s.mtimeMs };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async read(path: string): Promise<Uint8Array> {
    const { handle } = await openRegular(this.resolve(path));
    try {
      return new Uint8Array(await handle.readFile());
    } finally {
      await handle.close();
    }
  }

  async writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
    return writeFileAtomic(this.resolve(path), data);
  }

  async remove(path: string): Promise<void> {
    return rm(this.resolve(path), { force: true });
  }

  private resolve(path: string): string {
    const { folders, name } = splitPath(path);
    return join(this.name, ...folders, name);
  }
}
