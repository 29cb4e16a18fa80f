/**
 * Samples handed to the stream-scoped steps and not yet out of them. With a size, a
 * new file waits for room, so a slow step (training) does not make the run read the
 * whole source ahead into memory; without one, it never waits.
 */
export class Window {
  private inside = 0;
  private waiting: (() => void)[] = [];
  size?: number;

  enter(): void {
    this.inside++;
  }

  leave(): void {
    this.inside = Math.max(0, this.inside - 1);
    if (this.size === undefined || this.inside < this.size) for (const wake of this.waiting.splice(0)) wake();
  }

  async room(): Promise<void> {
    while (this.size !== undefined && this.inside >= this.size) await new Promise<void>((wake) => this.waiting.push(wake));
  }
}
