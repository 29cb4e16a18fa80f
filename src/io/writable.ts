/** Whether a folder can be written, checked before a run takes any file. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

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
