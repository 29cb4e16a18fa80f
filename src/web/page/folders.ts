/// <reference lib="dom" />
/**
 * The folders a job reads and writes. Where the browser has `showDirectoryPicker`
 * (Chrome, Edge) they are the folders the user picks, read and written in place. Where it
 * has not (Firefox, Safari), the images chosen through a file input are copied into
 * the origin-private file system and the outputs are written there too, then offered as
 * downloads: the runner sees a directory handle either way.
 */

type Picker = (options?: { id?: string; mode?: 'read' | 'readwrite'; startIn?: string }) => Promise<FileSystemDirectoryHandle>;

export const canPickFolders = (): boolean => typeof (window as unknown as { showDirectoryPicker?: Picker }).showDirectoryPicker === 'function';

/** A folder the user picks; undefined when they cancel. Read-write asks for permission once, up front. */
export async function pickFolder(mode: 'read' | 'readwrite', id: string): Promise<FileSystemDirectoryHandle | undefined> {
  try {
    return await (window as unknown as { showDirectoryPicker: Picker }).showDirectoryPicker({ id, mode });
  } catch (error) {
    if ((error as DOMException).name === 'AbortError') return undefined;
    throw error;
  }
}

/** A fresh folder of the origin-private file system, under `purpose/` (inputs, outputs). */
export async function privateFolder(purpose: string): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  const parent = await root.getDirectoryHandle(purpose, { create: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return parent.getDirectoryHandle(stamp, { create: true });
}

/** Copies files chosen through an input (a `webkitdirectory` one keeps their relative paths) into a private folder. */
export async function copyChosenFiles(files: FileList | File[]): Promise<FileSystemDirectoryHandle> {
  const folder = await privateFolder('inputs');
  for (const file of Array.from(files)) {
    const relative = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
    // A webkitdirectory input names the chosen folder first: the files are what is inside it.
    const parts = relative.split('/').filter(Boolean);
    if (parts.length > 1) parts.shift();
    let dir = folder;
    for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create: true });
    const handle = await dir.getFileHandle(parts.at(-1)!, { create: true });
    const writable = await handle.createWritable();
    await writable.write(file);
    await writable.close();
  }
  return folder;
}

/** Every file below `folder`, with its path relative to it. */
export async function listFiles(folder: FileSystemDirectoryHandle, prefix = ''): Promise<{ path: string; handle: FileSystemFileHandle }[]> {
  const found: { path: string; handle: FileSystemFileHandle }[] = [];
  for await (const [name, handle] of (folder as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (handle.kind === 'file') found.push({ path: `${prefix}${name}`, handle: handle as FileSystemFileHandle });
    else found.push(...(await listFiles(handle as FileSystemDirectoryHandle, `${prefix}${name}/`)));
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * The file an output path of a run names, inside the output folder. The runner names
 * outputs as paths below the folder it was given (maybe with a leading folder name or
 * slash): the longest tail of the path that exists there is the file.
 */
export async function outputFile(folder: FileSystemDirectoryHandle, path: string): Promise<File | undefined> {
  const parts = path.split(/[\\/]/).filter(Boolean);
  for (let start = 0; start < parts.length; start++) {
    try {
      let dir = folder;
      for (const part of parts.slice(start, -1)) dir = await dir.getDirectoryHandle(part);
      return await (await dir.getFileHandle(parts.at(-1)!)).getFile();
    } catch {
      // not below the folder from this segment on: try a shorter tail
    }
  }
  return undefined;
}
