/**
 * node:async_hooks' AsyncLocalStorage for the page bundle (scripts/build-web.ts puts this
 * module where shared code imports node:async_hooks). A page has no async context that
 * follows awaits: a store is seen by what `run` calls synchronously, and not after an
 * await. Its users degrade safely: `tile` subscribed later than its `stitch` (after a
 * model loaded) does not see the stitch, and emits its tiles without holding them back
 * (src/tile-budget.ts): the same results, more tiles in memory at once; the write guard
 * (src/io/write-guard.ts) serves the queue, which a page does not run.
 */
export class AsyncLocalStorage<T> {
  private store: T | undefined;

  getStore(): T | undefined {
    return this.store;
  }

  run<R, A extends unknown[]>(store: T, fn: (...args: A) => R, ...args: A): R {
    const before = this.store;
    this.store = store;
    try {
      return fn(...args);
    } finally {
      this.store = before;
    }
  }
}
