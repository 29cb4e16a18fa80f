/**
 * Folder handles placed at page paths: the runner mounts the picked input folder at
 * `/input` and the output folder at `/output`, so that shared code's paths (a sample's
 * source, an output's name) are ordinary POSIX paths, and the page's hosts find the
 * folder and the path within it that a page path names.
 */
import type { Folder } from '../../host/folder.js';

export interface Mount {
  /** The page path the folder is mounted at, e.g. `/input`. */
  readonly at: string;
  readonly folder: Folder;
}

/** The folder holding page path `path`, and the path within it; throws naming the mounts when none holds it. */
export function mounted(mounts: readonly Mount[], path: string): { readonly folder: Folder; readonly path: string } {
  const mount = mounts.find((m) => path.startsWith(`${m.at}/`));
  if (!mount) throw new Error(`${path}: not in a folder the page was given (${mounts.map((m) => m.at).join(', ')})`);
  return { folder: mount.folder, path: path.slice(mount.at.length + 1) };
}
