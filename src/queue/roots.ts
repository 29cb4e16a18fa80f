/**
 * Where a worker may read. A job names its input relative to the source folder of the
 * worker's own pipeline file; whoever can write to the queue chooses that path, so a
 * worker resolves it there and refuses anything that leads outside, by `..`, by an
 * absolute path, or through a symbolic link.
 */
import { realpath } from 'node:fs/promises';
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
  const [realRoot, realPath] = await Promise.all([realpath(root), realpath(path)]);
  if (!within(realRoot, realPath)) throw refuse(`it is a link to ${realPath}, outside the source folder`);
  return path;
}

function within(root: string, path: string): boolean {
  const rel = relative(resolve(root), path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** The inverse: `path` relative to `root`, '/'-separated, as jobs and the ledger name it. */
export function keyOf(root: string, path: string): string {
  return relative(resolve(root), resolve(path)).split(sep).join('/');
}
