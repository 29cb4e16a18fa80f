/**
 * Files under suspicion run alone. When a run dies, every file in flight is counted as
 * having been there, the innocent with the guilty; a suspect (a file some run died on)
 * is therefore taken only when nothing else is in flight, and nothing else starts while
 * it is, so that a second death is its own and the others are not blamed with it.
 * Suspects waiting go before ordinary files that arrive after them.
 */
export class Isolation {
  private active = 0;
  private alone = false;
  private suspectsWaiting = 0;
  private readonly waiters = new Set<() => void>();

  /** Waits for the file's turn; returns the function that ends it. */
  async enter(suspect: boolean): Promise<() => void> {
    if (suspect) {
      this.suspectsWaiting++;
      while (this.active > 0) await this.change();
      this.suspectsWaiting--;
      this.alone = true;
    } else {
      while (this.alone || this.suspectsWaiting > 0) await this.change();
    }
    this.active++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.active--;
      if (suspect) this.alone = false;
      for (const wake of [...this.waiters]) wake();
    };
  }

  private change(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
    });
  }
}
