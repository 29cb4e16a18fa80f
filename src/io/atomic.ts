/**
 * Atomic file writes: data goes to a temporary file in the target folder, is flushed,
 * and is renamed over the target — a reader (or a crash) never sees half a file.
 */
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { acquireLock, type Lock } from './lock.js';
import { mayWrite } from './write-guard.js';

let counter = 0;

/** File systems limit a name to 255 bytes (ext4, XFS, NTFS, APFS). */
export const NAME_MAX_BYTES = 255;

/**
 * Temporary names start with '.' and end in '.tmp', which watch sources ignore:
 * `.<target name>.<pid>.<n>.tmp`, the target name cut (at a character boundary) so
 * that the whole name fits in NAME_MAX_BYTES. The pid and counter make it unique.
 */
export function temporaryPath(target: string): string {
  const suffix = `.${process.pid}.${++counter}.tmp`;
  return join(dirname(target), `.${truncateUtf8(basename(target), NAME_MAX_BYTES - 1 - suffix.length)}${suffix}`);
}

const utf8 = new TextEncoder();

/** The length of `s` in UTF-8, counted the same in Node and in a page (which has no Buffer). */
export function utf8Bytes(s: string): number {
  return utf8.encode(s).length;
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `bytes`, never splitting a character. */
export function truncateUtf8(s: string, bytes: number): string {
  if (utf8Bytes(s) <= bytes) return s;
  let used = 0;
  let end = 0;
  for (const ch of s) {
    used += utf8Bytes(ch);
    if (used > bytes) break;
    end += ch.length;
  }
  return s.slice(0, end);
}

export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = temporaryPath(target);
  try {
    // 'wx': a name shared by accident (another host's process with our pid, on a network share) fails rather than mixes.
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // Last, right before the rename: a queue worker that has lost its job since it began writing replaces nothing.
    await mayWrite(target);
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

const TEMPORARY = /^\..+\.\d+\.\d+\.tmp$/;

/**
 * Removes every temporary file of ours below `dir`. Call it only while holding the
 * folder's lock: then no other unetflow run writes there, and any temporary is one a
 * writer left when it died mid-write (a crash, a power cut) — whatever its pid, which
 * may since belong to another process. Subfolders holding a file named `skipFoldersWith`
 * (another run's locked output folder) are left alone. Returns the paths removed.
 */
export async function removeTemporaries(dir: string, skipFoldersWith?: string): Promise<string[]> {
  const removed: string[] = [];
  const visit = async (folder: string, top: boolean) => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      return; // no output folder yet, or one that vanished meanwhile
    }
    if (!top && skipFoldersWith && entries.some((e) => e.name === skipFoldersWith)) return;
    for (const e of entries) {
      const path = join(folder, e.name);
      if (e.isDirectory()) await visit(path, false);
      else if (e.isFile() && TEMPORARY.test(e.name)) {
        await rm(path, { force: true });
        removed.push(path);
      }
    }
  };
  await visit(dir, true);
  return removed;
}

/** The lock file of an output folder: one run writes there at a time. */
export const OUTPUT_LOCK = '.unetflow.lock';

/**
 * Takes the output folder's lock (refusing to start if another run writes there), then
 * removes the temporaries a dead writer left (see removeTemporaries).
 */
export async function claimOutputFolder(dir: string, onLost?: (message: string) => void): Promise<{ lock: Lock; removed: string[] }> {
  const lock = await acquireLock(join(dir, OUTPUT_LOCK), {
    guards: `the output folder ${dir}`,
    because: "two runs writing one folder overwrite each other's outputs",
    otherwise: 'give this run another save.dir',
    ...(onLost ? { onLost } : {}),
  });
  try {
    return { lock, removed: await removeTemporaries(dir, OUTPUT_LOCK) };
  } catch (error) {
    lock.release();
    throw error;
  }
}
