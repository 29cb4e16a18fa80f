/**
 * Where a worker may read. A job names its input relative to the source folder of the
 * worker's own pipeline file; whoever can write to the queue chooses that path, so a
 * worker resolves it there and refuses anything that leads outside, by `..`, by an
 * absolute path, or through a symbolic link, any other spelling of a path than the
 * producer's (`./a.png`), and anything but a regular file (a FIFO, a device).
 */
import { realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class OutsideRootError extends Error {
  override readonly name = 'OutsideRootError';
}

/** The absolute path of `rel` inside `root`, after following links; throws OutsideRootError otherwise. */
export async function insideRoot(root: string, rel: string): Promise<string> {
  const refuse = (why: string) => new OutsideRootError(`${JSON.stringify(rel)}: refused, ${why}: this worker reads only inside ${root}`);
  if (isAbsolute(rel) || rel.includes('\0')) throw refuse('not a path relative to the source folder');
  const path = resolve(root, rel);
  if (!within(root, path)) throw refuse('it leads outside the source folder');
  // One file, one name: `./a.png` or `x/../a.png` would be a ledger entry of its own beside `a.png`'s.
  if (keyOf(root, path) !== rel) throw new OutsideRootError(`${JSON.stringify(rel)}: refused, not a path as producers write them (${JSON.stringify(keyOf(root, path))})`);
  const [realRoot, realPath] = await Promise.all([realpath(root), realpath(path)]);
  if (!within(realRoot, realPath)) throw refuse(`it is a link to ${realPath}, outside the source folder`);
  // Reading a FIFO waits forever, a device never ends: only regular files are inputs.
  const kind = kindOf(await stat(realPath));
  if (kind) throw new OutsideRootError(`${JSON.stringify(rel)}: refused, it is ${kind}, not a regular file`);
  return path;
}

function kindOf(s: Stats): string | undefined {
  if (s.isFile()) return undefined;
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isSocket()) return 'a socket';
  return 'a device';
}

function within(root: string, path: string): boolean {
  const rel = relative(resolve(root), path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** The inverse: `path` relative to `root`, '/'-separated, as jobs and the ledger name it. */
export function keyOf(root: string, path: string): string {
  return relative(resolve(root), resolve(path)).split(sep).join('/');
}
