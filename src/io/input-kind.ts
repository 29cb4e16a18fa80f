/**
 * What a path is, before anything opens it. Only regular files (or links to them) are
 * inputs: opening a FIFO blocks until a writer comes, and reading a device such as
 * /dev/zero never ends, so either would hold a slot (and a run's stop) forever.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, stat, type FileHandle } from 'node:fs/promises';

/** A path that is not an input, and what it is instead ("a FIFO", "a symbolic link to a folder", ...). */
export class NotAnInputError extends Error {
  override readonly name = 'NotAnInputError';
  constructor(
    readonly path: string,
    readonly what: string,
  ) {
    super(`${path}: not an image file but ${what}: skipped (only regular files, or links to them, are read)`);
  }
}

export type InputKind = { readonly regular: true; readonly size: number } | { readonly regular: false; readonly what: string };

/** What `path` is, links followed; never opens it. Throws (ENOENT, EACCES) when it cannot be looked at. */
export async function inputKind(path: string): Promise<InputKind> {
  const found = await examine(path);
  return 'stats' in found ? { regular: true, size: found.stats.size } : { regular: false, what: found.what };
}

/** Throws NotAnInputError unless `path` is a regular file or a link to one; returns that file's stats. */
export async function requireRegular(path: string): Promise<Stats> {
  const found = await examine(path);
  if (!('stats' in found)) throw new NotAnInputError(path, found.what);
  return found.stats;
}

/** The regular file's stats (its target's, for a link), or what the path is instead. */
async function examine(path: string): Promise<{ readonly stats: Stats } | { readonly what: string }> {
  const own = await lstat(path);
  if (!own.isSymbolicLink()) return own.isFile() ? { stats: own } : { what: describe(own) };
  let target: Stats;
  try {
    target = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return { what: 'a symbolic link loop' };
    if (code === 'ENOENT') return { what: 'a symbolic link whose target is missing' };
    throw error;
  }
  return target.isFile() ? { stats: target } : { what: `a symbolic link to ${describe(target)}` };
}

/**
 * Opens `path` for reading without ever blocking on it: non-blocking (a FIFO swapped in
 * after a check opens at once instead of waiting for a writer), then the open file is
 * checked to be a regular file, so nothing swapped in between a check and the open is read.
 */
export async function openRegular(path: string): Promise<{ readonly handle: FileHandle; readonly size: number }> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const s = await handle.stat();
    if (!s.isFile()) throw new NotAnInputError(path, describe(s));
    return { handle, size: s.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function describe(s: Stats): string {
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isDirectory()) return 'a folder';
  return 'not a regular file';
}
