/**
 * A folder as the pipeline sees it, whatever holds it: a directory on disk (Node) or a
 * FileSystemDirectoryHandle (a folder the user picked in a page, or the origin-private
 * file system). Paths are '/'-separated and relative to the folder; nothing above it
 * can be named.
 */

/** A regular file of a listing. */
export interface FolderEntry {
  /** Relative to the folder, '/'-separated, e.g. `day1/slice.tif`. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Size and modification time: what the ledger fingerprints a file by before it hashes. */
export interface FileStat {
  readonly size: number;
  readonly mtimeMs: number;
}

export interface Folder {
  /** How messages name the folder: its path (Node) or the handle's name (page). */
  readonly name: string;
  /** The regular files in it (and in its subfolders when `recursive`), sorted by path. */
  list(options?: { readonly recursive?: boolean }): Promise<FolderEntry[]>;
  /** Size and mtime of a regular file; undefined when there is none at `path`. */
  stat(path: string): Promise<FileStat | undefined>;
  /** A regular file's bytes; throws naming the file when it is missing. */
  read(path: string): Promise<Uint8Array>;
  /**
   * Writes `path` whole or not at all: to a temporary name in the same folder
   * (temporaryName), then moved over `path`, so that a reader (or a crash) never sees half
   * a file. Creates the folders on the way.
   */
  writeAtomic(path: string, data: Uint8Array | string): Promise<void>;
  /** Removes a file; nothing when there is none. */
  remove(path: string): Promise<void>;
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `bytes`, never splitting a character. */
export function truncateUtf8(s: string, bytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(s).length <= bytes) return s;
  let used = 0;
  let end = 0;
  for (const ch of s) {
    used += encoder.encode(ch).length;
    if (used > bytes) break;
    end += ch.length;
  }
  return s.slice(0, end);
}

/**
 * The temporary name a write goes to before its move: `.<name>.<writer>.<n>.tmp`, as
 * src/io/atomic.ts names them for the CLI (`writer` is its pid there), so that watch
 * sources ignore it on either host and a CLI run that claims the folder removes one a
 * page left when it was closed mid-write. The name is cut to fit in 255 bytes.
 */
export function temporaryName(name: string, writer: number, n: number): string {
  const suffix = `.${writer}.${n}.tmp`;
  return `.${truncateUtf8(name, 255 - 1 - suffix.length)}${suffix}`;
}

/** `path` split into its folders and its name; throws on a path that would leave the folder. */
export function splitPath(path: string): { readonly folders: readonly string[]; readonly name: string } {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..' || p.includes('\\'))) {
    throw new RangeError(`${JSON.stringify(path)} is not a file path inside the folder (expected names separated by '/', no '..')`);
  }
  return { folders: parts.slice(0, -1), name: parts[parts.length - 1] };
}
