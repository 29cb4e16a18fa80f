/**
 * Atomic file writes: data goes to a temporary file in the target folder, is flushed,
 * and is renamed over the target — a reader (or a crash) never sees half a file.
 */
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** Temporary names start with '.' and end in '.tmp', which watch sources ignore. */
export function temporaryPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${++counter}.tmp`);
}

export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = temporaryPath(target);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

const TEMPORARY = /^\..+\.(\d+)\.\d+\.tmp$/;

/**
 * Removes temporary files that a writer left when it died mid-write (a crash, a power
 * cut), below `dir`. Files of live processes are kept. Returns the paths removed.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return []; // no output folder yet
  }
  const removed: string[] = [];
  for (const e of entries) {
    const match = e.isFile() ? TEMPORARY.exec(e.name) : null;
    if (!match || isAlive(Number(match[1]))) continue;
    const path = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
