/**
 * Outputs in queue mode. Workers on several machines write into one output folder, so
 * none holds the folder's lock (atomic.ts claimOutputFolder): each input has its own
 * output names, every write is atomic, and a job is held by one worker at a time. A
 * worker killed mid-write leaves temporary files of the job it held; whoever takes the
 * job over removes them before redoing it (`removeJobTemporaries`), once it is the only
 * job writing that input (hold.ts): a worker that lost the job and renames late then
 * finds its temporary file gone, and one that checks first is refused.
 *
 * Paths that travel (events, ledger) are relative to the output folder, so that each
 * machine reads them against its own mount of it.
 */
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { outputPath } from '../io/output-path.js';
import { mayWrite } from '../io/write-guard.js';
import type { SaveTarget } from '../pipeline/outcome.js';
import type { SourceRef } from '../sample.js';

/** Removes the temporary files that writes of `ref`'s outputs (and its error report) left; returns their paths. */
export async function removeJobTemporaries(ref: SourceRef, targets: readonly SaveTarget[], outputDir: string | undefined): Promise<string[]> {
  const all = [...targets, ...(outputDir ? [{ dir: outputDir, outputs: ['error'] }] : [])];
  const removed: string[] = [];
  for (const { dir, outputs } of all) {
    const probe = outputPath(dir, ref, 'o', 'x');
    const stem = basename(probe).slice(0, -'.o.x'.length);
    // `.<stem>[.p<n>].<output>.<ext>.<pid>.<n>.tmp`, as atomic.ts names them.
    const mine = new RegExp(`^\\.${escape(stem)}(\\.p\\d+)?\\.(${outputs.map(escape).join('|')})\\.[^/]+\\.\\d+\\.\\d+\\.tmp$`);
    const names = await readdir(dirname(probe)).catch(() => [] as string[]);
    for (const n of names.filter((n) => mine.test(n))) {
      await mayWrite(join(dirname(probe), n));
      await rm(join(dirname(probe), n), { force: true });
      removed.push(join(dirname(probe), n));
    }
  }
  return removed;
}

/** Paths inside `dir` made relative to it; others kept as they are. */
export function portable<T extends Record<string, string>>(paths: T, dir: string | undefined): T {
  if (!dir) return paths;
  return Object.fromEntries(Object.entries(paths).map(([k, p]) => [k, portablePath(p, dir)])) as T;
}

export function portablePath(path: string, dir: string | undefined): string {
  if (!dir) return path;
  const rel = relative(dir, path);
  return rel && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel) ? rel.split(sep).join('/') : path;
}

/** The inverse on another machine: relative paths against its own output folder. */
export function localPaths<T extends Record<string, string>>(paths: T, dir: string | undefined): T {
  return Object.fromEntries(Object.entries(paths).map(([k, p]) => [k, localPath(p, dir)])) as T;
}

export function localPath(path: string, dir: string | undefined): string {
  return dir && !isAbsolute(path) ? resolve(dir, path) : path;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
