/**
 * A resource opened lazily on first use, shared by everyone who holds it, and closed
 * a short grace period after the last holder lets go — so that an operator instance
 * applied once per input file (a new subscription per file) loads its model once
 * rather than per file, and still frees it when the run is over. The grace timer is
 * unref'd: it never keeps a finished process alive.
 */
export class Shared<T> {
  private value: Promise<T> | undefined;
  private holders = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param open makes the resource
   * @param close frees it
   * @param graceMs how long it stays open with no holder @default 2000
   */
  constructor(
    private readonly open: () => Promise<T>,
    private readonly close: (value: T) => void | Promise<void>,
    private readonly graceMs = 2000,
  ) {}

  /** The resource (opening it if needed); pair every acquire with one `release`. */
  acquire(): Promise<T> {
    this.holders++;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.value) {
      const opening = this.open();
      this.value = opening;
      // A failed open is not cached: the next holder tries again.
      opening.catch(() => {
        if (this.value === opening) this.value = undefined;
      });
    }
    return this.value;
  }

  release(): void {
    if (this.holders === 0) throw new Error('Shared.release without acquire');
    if (--this.holders > 0) return;
    this.timer = setTimeout(() => void this.closeNow(), this.graceMs);
    this.timer.unref?.(); // a page's timers are numbers: nothing to let go of
  }

  /** Closes now if nobody holds it (also what the grace timer does). */
  async closeNow(): Promise<void> {
    if (this.holders > 0 || !this.value) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const value = this.value;
    this.value = undefined;
    await this.close(await value.catch(() => undefined as T));
  }
}
