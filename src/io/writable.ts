/**
 * Whether a folder can be written: checked before a run takes any file, and, when a write
 * fails while running, whether the failure is the folder's (the run's condition) or the file's.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { temporaryPath } from './atomic.js';

/**
 * Why `dir` cannot be created or written, or undefined when it can: the folder exists
 * and is writable, or its nearest existing ancestor is a writable folder (the run
 * creates the rest).
 */
export async function whyNotWritable(dir: string): Promise<string | undefined> {
  let path = resolve(dir);
  for (;;) {
    const s = await stat(path).catch((error: NodeJS.ErrnoException) => error);
    if (s instanceof Error) {
      // ENOTDIR: some ancestor is a regular file; ENOENT: this one is missing. Either way look higher.
      if ((s.code === 'ENOENT' || s.code === 'ENOTDIR') && dirname(path) !== path) {
        path = dirname(path);
        continue;
      }
      return `cannot check ${path}: ${s.message}`;
    }
    if (!s.isDirectory()) {
      return path === resolve(dir) ? `${path} is a file, not a folder` : `${resolve(dir)} cannot be created: ${path} is a file, not a folder`;
    }
    try {
      await access(path, constants.W_OK | constants.X_OK);
      return undefined;
    } catch {
      return path === resolve(dir) ? `${path} is not writable` : `${resolve(dir)} cannot be created: ${path} is not writable`;
    }
  }
}

/**
 * errno codes that say the disk, not the image, is at fault wherever they come from: a
 * full disk, a quota, a read-only mount.
 */
const DISK_CODES: Record<string, string> = {
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
};

/** errno codes that are the run's condition when the output folder itself cannot be written (gone, made read-only). */
const FOLDER_CODES: Record<string, string> = {
  ENOENT: 'the folder is gone',
  ENOTDIR: 'the folder is gone',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  ESTALE: 'its network share went away',
  ENOTCONN: 'its network share is not connected',
};

/**
 * An output folder that cannot be written (a full disk, a read-only or vanished folder):
 * a condition of the run, not of any image, so nothing is recorded against the files in
 * flight. Exit code 4 where it ends a run.
 */
export class OutputUnwritable extends Error {
  override readonly name = 'OutputUnwritable';
  readonly exitCode = 4;

  constructor(
    readonly dir: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(`the output folder ${dir} cannot be written: ${code} (${DISK_CODES[code] ?? FOLDER_CODES[code] ?? code}); no file is blamed for it; the files in flight are not recorded, and are done again once it can be written`, options);
  }
}

/**
 * Whether `error` (or one of its causes) is the output folder's condition rather than the
 * file's: a disk code anywhere, or a folder code on a path inside one of `dirs` when that
 * folder is indeed not writable now. Resolves to the condition, or undefined.
 */
export async function outputCondition(error: unknown, dirs: readonly string[]): Promise<OutputUnwritable | undefined> {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OutputUnwritable) return e;
    const { code, path } = e as { code?: unknown; path?: unknown };
    if (typeof code !== 'string') continue;
    const where = typeof path === 'string' ? dirs.find((d) => inside(resolve(path), d)) : undefined;
    if (code in DISK_CODES) return new OutputUnwritable(where ?? dirs[0] ?? (typeof path === 'string' ? dirname(resolve(path)) : '?'), code, { cause: error });
    // The folder written to is gone (removed, unmounted), or it is there and refuses a write.
    if (code in FOLDER_CODES && where && (!(await isFolder(dirname(resolve(path as string)))) || (await probeWritable(where, false)))) {
      return new OutputUnwritable(where, code, { cause: error });
    }
  }
  return undefined;
}

function inside(path: string, dir: string): boolean {
  const d = resolve(dir);
  return path === d || path.startsWith(d.endsWith(sep) ? d : d + sep);
}

/** Bytes a probe writes: a disk with less room than this is as good as full. */
const PROBE_BYTES = 64 * 1024;

function isFolder(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/**
 * Tries to write (and flush, and remove) a small temporary file in `dir` (created if
 * missing, where `create`): undefined when that works, else the errno code that stopped it.
 */
export async function probeWritable(dir: string, create = true): Promise<string | undefined> {
  const tmp = temporaryPath(join(dir, '.unetflow-probe'));
  try {
    if (create) await mkdir(dir, { recursive: true });
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(Buffer.alloc(PROBE_BYTES));
      await handle.sync();
    } finally {
      await handle.close();
    }
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EIO';
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}
