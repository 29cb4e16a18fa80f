/**
 * The parts of the File System Access API the page's hosts use, typed here because the
 * project compiles against Node's types, not the DOM's. A folder the user picked
 * (`showDirectoryPicker`) and the origin-private file system (`navigator.storage.getDirectory()`)
 * give the same FileSystemDirectoryHandle.
 */
export interface DirectoryHandle {
  readonly kind: 'directory';
  readonly name: string;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<DirectoryHandle>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<FileHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  entries(): AsyncIterable<[string, DirectoryHandle | FileHandle]>;
}

export interface FileHandle {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<{ readonly size: number; readonly lastModified: number; arrayBuffer(): Promise<ArrayBuffer> }>;
  createWritable(options?: { keepExistingData?: boolean }): Promise<WritableFile>;
  /** Chromium: renames within the folder, or moves to another (not in every browser). */
  move?(destination: DirectoryHandle | string, name?: string): Promise<void>;
}

export interface WritableFile {
  write(data: Uint8Array | string): Promise<void>;
  seek(position: number): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** The DOMException names the API throws, by what they mean here. */
export function isNotFound(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'NotFoundError';
}

export function isTypeMismatch(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'TypeMismatchError';
}
