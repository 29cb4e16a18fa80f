/**
 * A FileSystemDirectoryHandle as a Folder (src/host/folder.ts), for a folder the user
 * picked and for the origin-private file system alike. Writes are as atomic as the API
 * allows: the bytes go to a temporary name named as the CLI names its own
 * (temporaryName: watch sources on either host ignore it, and a CLI run that claims the
 * folder removes one a closed tab left), then the file is moved over the target. Where a
 * browser's move will not replace an existing file, the target is removed first: a
 * reader may then find it missing for a moment, never half written.
 */
import { splitPath, temporaryName, type FileStat, type Folder, type FolderEntry } from '../../host/folder.js';
import { isNotFound, isTypeMismatch, type DirectoryHandle, type FileHandle } from './handles.js';

/**
 * Stands in for the pid in temporary names: one number per page (or worker) that writes,
 * the microsecond its realm began (no two pages or workers begin in the same one), so
 * that no random draw is needed.
 */
const WRITER = Math.round(performance.timeOrigin * 1000);
let counter = 0;

export class HandleFolder implements Folder {
  readonly name: string;

  constructor(
    readonly handle: DirectoryHandle,
    name?: string,
  ) {
    this.name = name ?? handle.name;
  }

  async list(options: { readonly recursive?: boolean } = {}): Promise<FolderEntry[]> {
    const found: FolderEntry[] = [];
    const visit = async (dir: DirectoryHandle, prefix: string) => {
      for await (const [name, entry] of dir.entries()) {
        if (entry.kind === 'directory') {
          if (options.recursive) await visit(entry, `${prefix}${name}/`);
          continue;
        }
        // Gone between the listing and the look (a file being replaced): not listed.
        const file = await entry.getFile().catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
        if (file) found.push({ path: prefix + name, size: file.size, mtimeMs: file.lastModified });
      }
    };
    await visit(this.handle, '');
    return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const handle = await this.fileHandle(path, false).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
    if (!handle) return undefined;
    const file = await handle.getFile();
    return { size: file.size, mtimeMs: file.lastModified };
  }

  async read(path: string): Promise<Uint8Array> {
    let handle: FileHandle;
    try {
      handle = await this.fileHandle(path, false);
    } catch (error) {
      if (isNotFound(error)) throw new Error(`${this.name}/${path}: file not found`, { cause: error });
      throw error;
    }
    return new Uint8Array(await (await handle.getFile()).arrayBuffer());
  }

  async writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
    const { folders, name } = splitPath(path);
    const dir = await this.folder(folders, true);
    const tmpName = temporaryName(name, WRITER, ++counter);
    const tmp = await dir.getFileHandle(tmpName, { create: true });
    try {
      const writable = await tmp.createWritable();
      try {
        await writable.write(data);
      } catch (error) {
        await writable.abort().catch(() => undefined);
        throw error;
      }
      await writable.close();
      if (!tmp.move) throw new Error(`this browser cannot rename files in ${this.name} (FileSystemFileHandle.move): outputs cannot be written atomically`);
      try {
        await tmp.move(name);
      } catch (error) {
        if (isNotFound(error)) throw error;
        // Chromium's move will not replace a file in a picked folder: the old one goes first.
        await dir.removeEntry(name).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
        await tmp.move(name);
      }
    } catch (error) {
      await dir.removeEntry(tmpName).catch(() => undefined);
      throw new Error(`cannot write ${this.name}/${path}: ${(error as Error).message ?? String(error)}`, { cause: error });
    }
  }

  async remove(path: string): Promise<void> {
    const { folders, name } = splitPath(path);
    try {
      await (await this.folder(folders, false)).removeEntry(name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private async folder(names: readonly string[], create: boolean): Promise<DirectoryHandle> {
    let dir = this.handle;
    for (const name of names) dir = await dir.getDirectoryHandle(name, { create });
    return dir;
  }

  private async fileHandle(path: string, create: boolean): Promise<FileHandle> {
    const { folders, name } = splitPath(path);
    try {
      return await (await this.folder(folders, create)).getFileHandle(name, { create });
    } catch (error) {
      if (isTypeMismatch(error)) throw new Error(`${this.name}/${path}: a folder, not a file`, { cause: error });
      throw error;
    }
  }
}
