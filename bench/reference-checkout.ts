/**
 * UNETFLOW_BENCH_REFERENCE=<git ref>: a benchmark may run that commit's code beside this
 * checkout's, in the same run, as its reference. The checkout is a `git archive` of the
 * ref in a temporary folder, with this checkout's node_modules linked in, made once per
 * run and removed at exit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
export const referenceRef: string | undefined = process.env.UNETFLOW_BENCH_REFERENCE || undefined;

let root: string | undefined;

/** The folder holding `ref`'s files (`referenceRef` by default). */
export function referenceCheckout(ref = referenceRef): string {
  if (!ref) throw new Error('referenceCheckout: no reference given (set UNETFLOW_BENCH_REFERENCE to a git ref)');
  if (!root) {
    const scratch = mkdtempSync(join(os.tmpdir(), 'unetflow-bench-reference-'));
    process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
    root = join(scratch, 'reference');
    execFileSync('sh', ['-c', `mkdir -p "${root}" && git -C "${repo}" archive "${ref}" | tar -x -C "${root}"`]);
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  }
  return root;
}
