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
 * Inference spreads a batch's tiles over the workers.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BackendChoice } from './backend.js';
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
}

interface Pending {
  resolve(value: any): void;
  reject(error: Error): void;
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
    const workerData = { backend: options.backend ?? 'auto', config: options.config, weights: [...options.weights.entries()], trainer: options.trainer };
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
        if (m.error) p.reject(new Error(`worker: ${m.error}`));
        else p.resolve(m);
      });
      w.on('error', (error) => this.failAll(error));
      return w;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** One data-parallel optimisation step on `batch`. */
  async trainStep(batch: Batch): Promise<StepResult> {
    const t = this.options.trainer;
    if (!t) throw new Error('this pool was created for inference only');
    const { count, inputSize: s } = batch;
    const perImage = batch.images.length / count;
    const perLabel = batch.labels.length / count;
    const seeds = batch.dropoutSeeds ?? dropoutSeeds(t.seed ?? 0, this.step, count);
    const shares = split(count, this.workers.length);
    const replies = await Promise.all(
      shares.map(([from, to], i) =>
        this.call(i, {
          kind: 'gradients',
          normaliser: batch.labels.length,
          batch: {
            count: to - from,
            inputSize: s,
            images: batch.images.slice(from * perImage, to * perImage),
            labels: batch.labels.slice(from * perLabel, to * perLabel),
            weights: batch.weights?.slice(from * perLabel, to * perLabel),
            dropoutSeeds: seeds.slice(from, to),
          },
        }),
      ),
    );
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

  /** Class probabilities for `count` tiles, spread over the workers. */
  async predict(images: Float32Array, count: number, size: number, tta: Augmentation = 'none'): Promise<Float32Array> {
    const per = images.length / count;
    const shares = split(count, this.workers.length);
    const parts = (await Promise.all(
      shares.map(([from, to], i) => this.call(i, { kind: 'predict', images: images.slice(from * per, to * per), count: to - from, size, tta })),
    )) as { probabilities: Float32Array }[];
    const out = new Float32Array(parts.reduce((n, p) => n + p.probabilities.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p.probabilities, o);
      o += p.probabilities.length;
    }
    return out;
  }

  /** The current weights (all replicas hold the same). */
  async weights(): Promise<Map<string, Float32Array>> {
    const r = (await this.call(0, { kind: 'weights' })) as { weights: [string, Float32Array][] };
    return new Map(r.weights);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private call(worker: number, request: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
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
