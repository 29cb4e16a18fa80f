/**
 * One forward pass for tiles of several images: tiles are submitted one by one, by
 * any number of streams (a pipeline runs one per file), and a pass takes up to
 * `batchSize` waiting tiles of one size, in the order they came. The window is the
 * engine's own time: tiles submitted in the same turn of the event loop, or while a
 * pass runs, go together into the next pass; a lone tile on an idle engine waits for
 * nothing.
 *
 * Failure stays per image: when a pass over tiles of several images fails, each
 * image's tiles are computed again on their own, so only an image that fails alone
 * sees its tiles rejected.
 */
import type { Predictor } from '../engines/engine.js';
import type { Augmentation } from './augmentation.js';

export interface BatchTile {
  /**
   * Float32 NHWC input, `size` x `size` x channels, made when its pass starts: tiles
   * waiting for a pass (up to `tile`'s inFlight per image) are held in their own,
   * often 8-bit, type.
   */
  readonly input: () => Float32Array;
  readonly size: number;
  /** The image (file) the tile belongs to: a failure is shared only within it. */
  readonly image: string;
  /** What the caller knows the tile by (unet: its sample), for `around`. */
  readonly owner?: unknown;
}

interface Waiting {
  readonly tile: BatchTile;
  resolve(probabilities: Float32Array): void;
  reject(error: unknown): void;
}

export class TileBatcher {
  private readonly waiting: Waiting[] = [];
  private running = false;

  /**
   * @param predictor runs the passes, one at a time
   * @param outputValues values of one tile's output for an input size (out² x classes) @default a pass's values over its tiles
   * @param around wraps each pass (the tiles of the pass given), e.g. to mark their images busy
   */
  constructor(
    private readonly predictor: Predictor,
    private readonly batchSize: number,
    private readonly tta: Augmentation,
    private readonly outputValues?: (size: number) => number,
    private readonly around: <T>(tiles: readonly BatchTile[], work: () => Promise<T>) => Promise<T> = (_, work) => work(),
  ) {
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }

  /** The tile's probabilities, once a pass has computed them. */
  submit(tile: BatchTile): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ tile, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Tiles waiting for a pass. */
  get pending(): number {
    return this.waiting.length;
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const size = this.waiting[0].tile.size;
      const pass: Waiting[] = [];
      for (let i = 0; i < this.waiting.length && pass.length < this.batchSize; ) {
        if (this.waiting[i].tile.size === size) pass.push(...this.waiting.splice(i, 1));
        else i++;
      }
      await this.run(pass);
    }
    this.running = false;
  }

  private async run(pass: Waiting[]): Promise<void> {
    try {
      this.settle(pass, await this.predict(pass));
      return;
    } catch (error) {
      const images = [...new Set(pass.map((w) => w.tile.image))];
      if (images.length === 1) return pass.forEach((w) => w.reject(error));
    }
    // A pass over several images failed: each image again on its own.
    for (const image of new Set(pass.map((w) => w.tile.image))) {
      const own = pass.filter((w) => w.tile.image === image);
      try {
        this.settle(own, await this.predict(own));
      } catch (error) {
        own.forEach((w) => w.reject(error));
      }
    }
  }

  private predict(pass: Waiting[]): Promise<Float32Array> {
    const tiles = pass.map((w) => w.tile);
    let images: Float32Array | undefined;
    tiles.forEach((t, i) => {
      const input = t.input();
      images ??= new Float32Array(input.length * tiles.length);
      images.set(input, i * input.length);
    });
    return this.around(tiles, () => this.predictor.predict(images!, tiles.length, tiles[0].size, this.tta));
  }

  private settle(pass: Waiting[], probabilities: Float32Array): void {
    const n = this.outputValues?.(pass[0].tile.size) ?? probabilities.length / pass.length;
    pass.forEach((w, i) => w.resolve(probabilities.slice(i * n, (i + 1) * n)));
  }
}
