/**
 * Whether the code running now may still write an input's outputs. A queue worker can
 * lose its hold on a job while it runs it (the process frozen, paused or starved for
 * longer than the lock lasts): another worker then owns that input's outputs, and the
 * first must not write, rename over or remove any of them. The worker runs each job
 * inside `guardWrites`; every rename into place and every removal of an output asks
 * `mayWrite` first, and a check that fails throws WriteRefused instead. Outside a
 * guard (an in-process run, which holds its output folder's lock) `mayWrite` allows all.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export class WriteRefused extends Error {
  override readonly name = 'WriteRefused';
}

type Check = (path: string) => Promise<void>;

const current = new AsyncLocalStorage<Check>();

/** Runs `run` with `check` asked before each write of outputs made within it (async continuations included). */
export function guardWrites<T>(check: Check, run: () => Promise<T>): Promise<T> {
  return current.run(check, run);
}

/** Resolves when `path` may be written or removed now; throws WriteRefused otherwise. */
export async function mayWrite(path: string): Promise<void> {
  await current.getStore()?.(path);
}

/** The WriteRefused among `error` and its causes, if any. */
export function writeRefusal(error: unknown): WriteRefused | undefined {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof WriteRefused) return e;
  }
  return undefined;
}
