/** Waiting in tests: on a state where there is one to wait on, and on time only where none is. */

/**
 * Resolves after `ms`. For letting time pass (a poll's interval, a window in which
 * nothing more may arrive); never in place of waiting for a state (`until`).
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves once `condition` holds, looked at every `everyMs`; rejects, saying what was
 * waited for, after `timeoutMs` (generous: CI machines are busy).
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, { timeoutMs = 30_000, everyMs = 10 } = {}): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await sleep(everyMs);
  }
}
