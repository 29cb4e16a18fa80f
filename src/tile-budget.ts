/**
 * Flow control between `tile` and `stitch`. RxJS has no backpressure: a `tile` that
 * emitted every tile of a large image at once would let each step after it hold all of
 * them (the network's float32 inputs and outputs). A TileBudget bounds the tiles of one
 * image in flight instead: `tile` takes a permit for each tile it emits and waits when
 * none is free; `stitch` gives the permit back once it has placed the tile, and a step
 * that drops a failed tile gives it back too (`releaseTile`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What these functions read of a stream item: a Sample's `tile` (TileInfo) as far as the
 * budget goes. Spelled out here rather than imported, so that sample.ts, whose TileInfo
 * carries a TileBudget, stays the only one of the two that names the other.
 */
interface Tiled {
  readonly tile?: { readonly index: number; readonly budget?: TileBudget };
}

export class TileBudget {
  /** When each tile's permit was taken (ms), NaN while the tile holds none. */
  private readonly takenAt: Float64Array;
  private held = 0;
  private mostHeld = 0;
  private slowest = 0;
  private lifted = false;
  private working = 0;
  private listener: (() => void) | undefined;

  /**
   * @param size permits: tiles of the image that may be in flight at once
   * @param count tiles of the image
   */
  constructor(
    readonly size: number,
    count: number,
  ) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`a tile budget needs at least 1 permit, got ${size}`);
    this.takenAt = new Float64Array(count).fill(NaN);
  }

  /** Takes tile `index`'s permit if one is free (always, once lifted); false if none is. */
  take(index: number): boolean {
    if (this.held >= this.size && !this.lifted) return false;
    if (!Number.isNaN(this.takenAt[index])) throw new RangeError(`tile ${index} already holds a permit`);
    this.takenAt[index] = performance.now();
    this.held++;
    this.mostHeld = Math.max(this.mostHeld, this.held);
    return true;
  }

  /** Gives tile `index`'s permit back; for a tile that holds none (given back already), nothing happens. */
  release(index: number): void {
    const taken = this.takenAt[index];
    if (taken === undefined || Number.isNaN(taken)) return;
    this.slowest = Math.max(this.slowest, performance.now() - taken);
    this.takenAt[index] = NaN;
    this.held--;
    this.listener?.();
  }

  /** Stops holding tiles back: every later `take` succeeds. */
  lift(): void {
    this.lifted = true;
    this.listener?.();
  }

  /** Drops every permit and the listener: the image's tiles are no longer waited for. */
  close(): void {
    this.takenAt.fill(NaN);
    this.held = 0;
    this.listener = undefined;
  }

  /** Called after each permit given back (and on `lift`). */
  onRelease(listener: () => void): void {
    this.listener = listener;
  }

  /** Tiles holding a permit now. */
  get inFlight(): number {
    return this.held;
  }

  /** The most tiles that held a permit at once. */
  get peak(): number {
    return this.mostHeld;
  }

  /** The longest a tile has held its permit, ms: how long the steps between tile and stitch take. */
  get slowestMs(): number {
    return this.slowest;
  }

  get isLifted(): boolean {
    return this.lifted;
  }

  /** Whether a step (the network) is computing tiles of this image now: a wait then is no stall. */
  get busy(): boolean {
    return this.working > 0;
  }

  /** Marks the image's tiles as being computed from now (+1) or no longer (-1). */
  setWorking(delta: 1 | -1): void {
    this.working = Math.max(0, this.working + delta);
  }
}

/**
 * Runs `work` on tiles with their images marked busy, so that a slow network (a big
 * batch on a slow backend) is not taken for a stalled step that holds tiles back.
 */
export async function whileWorkingOn<T>(items: readonly unknown[], work: () => Promise<T>): Promise<T> {
  const budgets = new Set(items.map((item) => (item as Tiled | undefined)?.tile?.budget).filter((b): b is TileBudget => Boolean(b)));
  for (const b of budgets) b.setWorking(1);
  try {
    return await work();
  } finally {
    for (const b of budgets) b.setWorking(-1);
  }
}

/** Gives back the permit of a tile that will never reach `stitch` (a step dropped it); anything else is ignored. */
export function releaseTile(item: unknown): void {
  const info = (item as Tiled | undefined)?.tile;
  info?.budget?.release(info.index);
}

/**
 * Set by `stitch` around its subscription to its source: a `tile` subscribed within it
 * (however many steps, synchronous or not, lie between) knows that its tiles come back
 * and holds them back by a budget. A `tile` with no `stitch` after it (tiles collected,
 * saved or trained on) emits freely, as nothing would give permits back.
 */
export const stitchDownstream = new AsyncLocalStorage<true>();
