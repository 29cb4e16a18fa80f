/**
 * A pool of worker threads, each with a replica of the network on its own tfjs
 * backend (worker.ts): the wasm backend runs one thread per engine in Node, so this
 * is how every core is used.
 *
 * Training is data-parallel: a batch is split into contiguous shares, each worker
 * computes the gradient of its share's weighted loss divided by the whole batch's
 * pixel count, the main thread sums them (which is the whole batch's gradient), and
 * every replica applies the same sum with its own copy of the optimiser — so the
 * replicas stay identical, and a step equals a single-worker step up to float
 * rounding. Dropout seeds are per tile, so a split draws the same masks.
 *
 * A batch with fewer tiles than workers is split further, into bands of rows of each
 * tile (`bands` in geometry.ts: exact for valid convolutions, halo included, dropout
 * masks cut from the whole tile's). A band split also bounds memory: `tileParts`
 * bands per tile let a network train whose whole tile would not fit one wasm heap.
 * Each band's loss weights are zero outside the rows it owns, so every output pixel
 * counts once.
 *
 * Inference spreads a batch's tiles (or, for a single tile, its bands) over the workers.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BackendChoice } from './backend.js';
import { bands, type Band } from './geometry.js';
import type { Augmentation } from './predictor.js';
import { learningRateAt } from './optimizer.js';
import { dropoutSeeds, type Batch, type StepResult, type TrainerOptions } from './trainer.js';
import type { UNetConfig } from './unet.js';

export interface PoolOptions {
  /** Worker threads. @default the number of cores */
  readonly workers?: number;
  /** Backend in each worker. @default 'auto' */
  readonly backend?: BackendChoice;
  readonly config: UNetConfig;
  /** Initial weights, in the network's order (every replica starts from them). */
  readonly weights: Map<string, Float32Array>;
  /** Present for training pools. */
  readonly trainer?: TrainerOptions;
  /** Optimiser state to resume from (`Trainer.optimizerState`). */
  readonly optimizerState?: readonly { shape: number[]; data: Float32Array }[];
  /**
   * At least this many bands per tile (valid padding only), computed one after another
   * where there are more bands than workers: bounds each worker's memory. @default 1
   */
  readonly tileParts?: number;
}

interface Pending {
  resolve(value: any): void;
  reject(error: Error): void;
}

/** A piece of work: whole tiles [from, to), or one band of tile `from`. */
interface Item {
  readonly from: number;
  readonly to: number;
  readonly band?: Band;
}

export class WorkerPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private step: number;

  constructor(private readonly options: PoolOptions) {
    const count = options.workers ?? availableParallelism();
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`workers must be a positive integer, got ${count}`);
    this.step = options.trainer?.startStep ?? 0;
    // From source (tsx) the worker is a .ts file and needs tsx's loader; built, it is .js.
    const fromSource = import.meta.url.endsWith('.ts');
    const url = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
    const workerData = {
      backend: options.backend ?? 'auto',
      config: options.config,
      weights: [...options.weights.entries()],
      trainer: options.trainer,
      optimizerState: options.optimizerState,
    };
    this.workers = Array.from({ length: count }, () => {
      // Node 20 will not start a worker at a .ts entry (execArgv --import tsx does not
      // reach it), so from source a one-line script registers tsx, then imports it.
      const w = fromSource
        ? new Worker(
            `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`,
            { eval: true, workerData },
          )
        : new Worker(url, { workerData });
      w.on('message', (m: { id: number; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) for (const v of this.workers) v.unref();
        if (m.error) p.reject(new Error(`worker: ${m.error}`));
        else p.resolve(m);
      });
      w.on('error', (error) => this.failAll(error));
      // Idle workers do not keep the process alive; a pending request does (see call).
      w.unref();
      return w;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** The backend the workers run on, e.g. `wasm`. */
  async backend(): Promise<string> {
    return ((await this.call(0, { kind: 'info' })) as { backend: string }).backend;
  }

  /** One data-parallel optimisation step on `batch` (square tiles). */
  async trainStep(batch: Batch): Promise<StepResult> {
    const t = this.options.trainer;
    if (!t) throw new Error('this pool was created for inference only');
    const { count, inputSize: s } = batch;
    const perImage = batch.images.length / count;
    const o = Math.round(Math.sqrt(batch.labels.length / count));
    const seeds = batch.dropoutSeeds ?? dropoutSeeds(t.seed ?? 0, this.step, count);
    const items = this.plan(count, s, true);
    const replies = await this.spread(items, (item) => {
      if (!item.band) {
        const { from, to } = item;
        return {
          kind: 'gradients',
          normaliser: batch.labels.length,
          batch: {
            count: to - from,
            inputSize: s,
            images: batch.images.slice(from * perImage, to * perImage),
            labels: batch.labels.slice(from * o * o, to * o * o),
            weights: batch.weights?.slice(from * o * o, to * o * o),
            dropoutSeeds: seeds.slice(from, to),
          },
        };
      }
      const { from: i, band: b } = item;
      const cols = perImage / s;
      const weights = new Float32Array(b.outputRows * o);
      const ownFrom = (b.ownTop - b.outputTop) * o;
      const ownTo = ownFrom + b.ownRows * o;
      const all = batch.weights?.subarray((i * o + b.outputTop) * o, (i * o + b.outputTop + b.outputRows) * o);
      for (let k = ownFrom; k < ownTo; k++) weights[k] = all ? all[k] : 1;
      return {
        kind: 'gradients',
        normaliser: batch.labels.length,
        batch: {
          count: 1,
          inputSize: s,
          inputHeight: b.inputRows,
          band: { top: b.inputTop, fullHeight: s },
          images: batch.images.slice(i * perImage + b.inputTop * cols, i * perImage + (b.inputTop + b.inputRows) * cols),
          labels: batch.labels.slice((i * o + b.outputTop) * o, (i * o + b.outputTop + b.outputRows) * o),
          weights,
          dropoutSeeds: [seeds[i]],
        },
      };
    });
    let loss = 0;
    const sum = new Map<string, Float32Array>();
    for (const r of replies as { loss: number; gradients: [string, Float32Array][] }[]) {
      loss += r.loss;
      for (const [name, g] of r.gradients) {
        const acc = sum.get(name);
        if (!acc) sum.set(name, g);
        else for (let k = 0; k < g.length; k++) acc[k] += g[k];
      }
    }
    const gradients = [...sum.entries()];
    await Promise.all(this.workers.map((_, i) => this.call(i, { kind: 'apply', gradients })));
    const learningRate = learningRateAt(t.optimizer.learningRate, t.schedule ?? { kind: 'constant' }, this.step);
    return { step: ++this.step, loss, learningRate };
  }

  /**
   * Class probabilities for `count` square tiles, spread over the workers: whole tiles
   * when there are enough of them, else bands of tiles (without augmentation only:
   * a band of a flipped tile is not a flipped band).
   */
  async predict(images: Float32Array, count: number, size: number, tta: Augmentation = 'none'): Promise<Float32Array> {
    const per = images.length / count;
    const cols = per / size;
    const items = this.plan(count, size, tta === 'none');
    const parts = (await this.spread(items, (item) => {
      const b = item.band;
      return b
        ? { kind: 'predict', images: images.slice(item.from * per + b.inputTop * cols, item.from * per + (b.inputTop + b.inputRows) * cols), count: 1, size, height: b.inputRows, tta }
        : { kind: 'predict', images: images.slice(item.from * per, item.to * per), count: item.to - item.from, size, tta };
    })) as { probabilities: Float32Array }[];
    if (!items.some((item) => item.band)) {
      const out = new Float32Array(parts.reduce((n, p) => n + p.probabilities.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p.probabilities, o);
        o += p.probabilities.length;
      }
      return out;
    }
    // Bands: each band's own rows go to their place in its tile.
    const rowLength = parts[0].probabilities.length / items[0].band!.outputRows;
    const tileLength = rowLength * items.filter((item) => item.from === 0).reduce((n, item) => n + item.band!.ownRows, 0);
    const out = new Float32Array(count * tileLength);
    items.forEach((item, k) => {
      const b = item.band!;
      const own = parts[k].probabilities.subarray((b.ownTop - b.outputTop) * rowLength, (b.ownTop - b.outputTop + b.ownRows) * rowLength);
      out.set(own, item.from * tileLength + b.ownTop * rowLength);
    });
    return out;
  }

  /** The current weights (all replicas hold the same). */
  async weights(): Promise<Map<string, Float32Array>> {
    const r = (await this.call(0, { kind: 'weights' })) as { weights: [string, Float32Array][] };
    return new Map(r.weights);
  }

  /** The optimiser state (all replicas hold the same), as `Trainer.optimizerState` gives it. */
  async optimizerState(): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
    return ((await this.call(0, { kind: 'optimizer-state' })) as { state: { name: string; shape: number[]; data: Float32Array }[] }).state;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** Whole tiles over the workers when there are enough, else bands (valid networks). */
  private plan(count: number, size: number, mayBand: boolean): Item[] {
    const minParts = this.options.tileParts ?? 1;
    const parts = Math.max(minParts, Math.ceil(this.workers.length / count));
    const list = mayBand && parts > 1 ? bands(size, this.options.config, parts) : [];
    if (list.length <= 1) return split(count, this.workers.length).map(([from, to]) => ({ from, to }));
    return Array.from({ length: count }, (_, i) => list.map((band) => ({ from: i, to: i + 1, band }))).flat();
  }

  /** Sends item k to worker k mod size (a worker's items run one after another). */
  private spread(items: Item[], request: (item: Item) => Record<string, unknown>): Promise<unknown[]> {
    return Promise.all(items.map((item, k) => this.call(k % this.workers.length, request(item))));
  }

  private call(worker: number, request: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) for (const v of this.workers) v.ref();
      this.pending.set(id, { resolve, reject });
      this.workers[worker].postMessage({ id, ...request });
    });
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

/** `count` items in up to `parts` contiguous, non-empty [from, to) shares. */
function split(count: number, parts: number): [number, number][] {
  const n = Math.min(parts, count);
  return Array.from({ length: n }, (_, i) => [Math.floor((i * count) / n), Math.floor(((i + 1) * count) / n)]);
}
