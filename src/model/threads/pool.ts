/**
 * A pool of replica threads (worker_threads), each with a replica of the network on
 * its own tfjs engine (replica.ts): the wasm backend runs one thread per engine in
 * Node, so this is how every core is used. Every replica loads the engine the main
 * thread resolved to; none chooses again.
 *
 * Training is data-parallel: a batch is split into contiguous shares, each worker
 * computes the gradient of its share's weighted loss divided by the whole batch's
 * pixel count, the main thread sums them (which is the whole batch's gradient), and
 * every replica applies the same sum with its own copy of the optimiser — so the
 * replicas stay identical, and a step equals a single-worker step up to float
 * rounding. Dropout seeds are per tile, so a split draws the same masks.
 *
 * A batch with fewer tiles than workers is split further, into bands of rows of each
 * tile (`bands` in network/geometry.ts: exact for valid convolutions, halo included, dropout
 * masks cut from the whole tile's). A band split also bounds memory: `tileParts`
 * bands per tile let a network train whose whole tile would not fit one wasm heap.
 * Each band's loss weights are zero outside the rows it owns, so every output pixel
 * counts once.
 *
 * Inference spreads a batch's tiles over the workers; with fewer tiles than workers,
 * a tile's bands (no augmentation) or its augmentation's passes (a share each,
 * averaged here). Each worker cuts its share into chunks that fit its memory budget
 * (engines/choice.ts's memoryBudget; a wasm heap is 4 GiB at most).
 *
 * Failures come back as ReplicaErrors: a one-line message, the worker's stack and
 * anything its wasm runtime printed in `detail`. An error from WebAssembly itself
 * (an out-of-bounds access, `Aborted()`) leaves that worker's engine unusable, so an
 * inference worker is replaced by a fresh one with the same weights, and the requests
 * queued on it are sent to the replacement. A training worker is not: its weights and
 * optimiser state have moved on since the pool started, and a step that lost a share
 * of its gradient cannot be completed, so the error ends the training run.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { TfjsEngineName } from '../engines/engine.js';
import { bands, type Band } from '../network/geometry.js';
import { symmetries, type Augmentation } from '../inference/augmentation.js';
import { learningRateAt } from '../training/optimizer.js';
import { dropoutSeeds, type Batch, type StepResult, type TrainerOptions } from '../training/trainer.js';
import type { UNetConfig } from '../network/unet.js';

export interface PoolOptions {
  /** Replica threads. @default the number of cores */
  readonly workers?: number;
  /** The engine each replica loads: the one this thread resolved to. */
  readonly engine: TfjsEngineName;
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
  readonly worker: number;
  readonly request: Record<string, unknown>;
  resolve(value: any): void;
  reject(error: Error): void;
}

/** What a replica posts back when a request fails (replica.ts). */
export interface ReplicaFailure {
  readonly name: string;
  /** One line. */
  readonly message: string;
  /** The worker's stack, and what its wasm runtime printed (`Aborted(...)`). */
  readonly detail: string;
  /** The error came from WebAssembly itself: the worker's engine cannot be used again. */
  readonly fatal: boolean;
}

/** A request a worker could not complete: one line to show, the rest in `detail` (for reports). */
export class ReplicaError extends Error {
  override readonly name = 'ReplicaError';

  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

/** A piece of work: whole tiles [from, to), one band of tile `from`, or some passes of tile `from`. */
interface Item {
  readonly from: number;
  readonly to: number;
  readonly band?: Band;
  readonly passes?: readonly [number, number];
}

export class ReplicaPool {
  private readonly workers: Worker[] = [];
  private readonly engines: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private step: number;

  constructor(private readonly options: PoolOptions) {
    const count = options.workers ?? availableParallelism();
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`workers must be a positive integer, got ${count}`);
    this.step = options.trainer?.startStep ?? 0;
    this.engines = count;
    for (let k = 0; k < count; k++) this.workers.push(this.spawn(k));
  }

  /** Starts worker `k` from the pool's initial state. */
  private spawn(k: number): Worker {
    const { options } = this;
    // From source (tsx) the replica is a .ts file and needs tsx's loader; built, it is .js.
    const fromSource = import.meta.url.endsWith('.ts');
    const url = new URL(fromSource ? './replica.ts' : './replica.js', import.meta.url);
    const workerData = {
      engine: options.engine,
      config: options.config,
      weights: [...options.weights.entries()],
      trainer: options.trainer,
      optimizerState: options.optimizerState,
      engines: this.engines,
    };
    // Node 20 will not start a worker at a .ts entry (execArgv --import tsx does not
    // reach it), so from source a one-line script registers tsx, then imports it.
    const w = fromSource
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`,
          { eval: true, workerData },
        )
      : new Worker(url, { workerData });
    w.on('message', (m: { id: number; error?: ReplicaFailure }) => {
      if (this.workers[k] !== w) return; // a replaced worker's last words
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error?.fatal && !this.options.trainer) this.replace(k);
      this.refresh();
      if (!m.error) return p.resolve(m);
      const restarted = m.error.fatal && !this.options.trainer ? '; its engine stopped and the worker was restarted' : '';
      p.reject(new ReplicaError(`worker ${k + 1}: ${m.error.name}: ${m.error.message}${restarted}`, m.error.detail));
    });
    w.on('error', (error) => {
      if (this.workers[k] !== w) return;
      for (const [id, p] of this.pending) {
        if (p.worker !== k) continue;
        this.pending.delete(id);
        p.reject(new ReplicaError(`worker ${k + 1} stopped: ${error.message.split('\n')[0]}`, error.stack ?? String(error)));
      }
      if (!this.options.trainer) this.replace(k);
      this.refresh();
    });
    // Idle workers do not keep the process alive; a pending request does (see refresh).
    if (this.pending.size === 0) w.unref();
    return w;
  }

  /** Replaces worker `k` by a fresh one; requests still queued on it go to the new one. */
  private replace(k: number): void {
    void this.workers[k].terminate();
    this.workers[k] = this.spawn(k);
    for (const [id, p] of this.pending) if (p.worker === k) this.workers[k].postMessage({ id, ...p.request });
  }

  /** Workers keep the process alive exactly while requests are pending. */
  private refresh(): void {
    for (const w of this.workers) {
      if (this.pending.size > 0) w.ref();
      else w.unref();
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** The tfjs backend the replicas run on, e.g. `wasm`. */
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
    const items = this.plan(count, s, 'none');
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
   * when there are enough of them, else bands of tiles without augmentation (a band of
   * a flipped tile is not a flipped band), or shares of each tile's augmentation passes.
   */
  async predict(images: Float32Array, count: number, size: number, tta: Augmentation = 'none'): Promise<Float32Array> {
    const per = images.length / count;
    const cols = per / size;
    const items = this.plan(count, size, tta);
    const parts = (await this.spread(items, (item) => {
      const b = item.band;
      return b
        ? { kind: 'predict', images: images.slice(item.from * per + b.inputTop * cols, item.from * per + (b.inputTop + b.inputRows) * cols), count: 1, size, height: b.inputRows, tta }
        : { kind: 'predict', images: images.slice(item.from * per, item.to * per), count: item.to - item.from, size, tta, passes: item.passes };
    })) as { probabilities: Float32Array }[];
    if (items.some((item) => item.passes)) {
      // Each share is the mean of its passes: weighted by their number, they make the mean of all.
      const all = symmetries(tta).length;
      const out = new Float32Array(count * parts[0].probabilities.length);
      items.forEach((item, k) => {
        const [a, b] = item.passes!;
        const offset = item.from * parts[k].probabilities.length;
        parts[k].probabilities.forEach((v, i) => (out[offset + i] += (v * (b - a)) / all));
      });
      return out;
    }
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

  /**
   * Whole tiles over the workers when there are enough, else bands (valid networks,
   * no augmentation) or shares of the augmentation's passes.
   */
  private plan(count: number, size: number, tta: Augmentation): Item[] {
    const minParts = this.options.tileParts ?? 1;
    const parts = Math.max(minParts, Math.ceil(this.workers.length / count));
    const list = tta === 'none' && parts > 1 ? bands(size, this.options.config, parts) : [];
    if (list.length > 1) return Array.from({ length: count }, (_, i) => list.map((band) => ({ from: i, to: i + 1, band }))).flat();
    const passes = symmetries(tta).length;
    const shares = Math.min(passes, Math.floor(this.workers.length / count));
    if (shares > 1) {
      const ranges = split(passes, shares);
      return Array.from({ length: count }, (_, i) => ranges.map((passes) => ({ from: i, to: i + 1, passes }))).flat();
    }
    return split(count, this.workers.length).map(([from, to]) => ({ from, to }));
  }

  /** Sends item k to worker k mod size (a worker's items run one after another). */
  private spread(items: Item[], request: (item: Item) => Record<string, unknown>): Promise<unknown[]> {
    return Promise.all(items.map((item, k) => this.call(k % this.workers.length, request(item))));
  }

  private call(worker: number, request: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { worker, request, resolve, reject });
      this.refresh();
      this.workers[worker].postMessage({ id, ...request });
    });
  }
}

/** `count` items in up to `parts` contiguous, non-empty [from, to) shares. */
function split(count: number, parts: number): [number, number][] {
  const n = Math.min(parts, count);
  return Array.from({ length: n }, (_, i) => [Math.floor((i * count) / n), Math.floor(((i + 1) * count) / n)]);
}
