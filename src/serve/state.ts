/**
 * The live page's view of a run, folded from its events: the run's state, a file table,
 * the latest images, time series for the charts and recent warnings. Folding is
 * synchronous and cheap (amortised O(1) per event) so that a subscriber doing it never
 * holds up the run, and everything is bounded: the table keeps at most `maxRows` rows
 * (the oldest go first) and each series coarsens itself instead of growing.
 */
import type { RunEvent } from '../events.js';
import type { SegmentationMetrics } from '../kernels/metrics/segmentation.js';
import { backendLine } from '../model/engines/report.js';

/** A ledger line as `serve --ledger` replays it: what a watch run recorded about one input. */
export interface LedgerRecord {
  readonly type: 'ledger-entry';
  readonly file: string;
  readonly status: 'done' | 'failed';
  readonly outputs: Readonly<Record<string, string>>;
  /** When the entry was written (ISO 8601): the file's end. */
  readonly time: string;
  readonly seconds?: number;
  readonly objects?: number;
  readonly error?: string;
  readonly report?: string;
  readonly sameAs?: string;
}

/** What the state folds: a run's events, or the lines of a ledger read back. */
export type ServeEvent = RunEvent | LedgerRecord | { readonly type: 'source'; readonly state: RunStatus; readonly message?: string };

export type RunStatus = 'starting' | 'running' | 'finished' | 'failed';

export interface FileRow {
  /** Position in arrival order, from 1: a stable key for the page. */
  readonly seq: number;
  readonly file: string;
  readonly status: 'done' | 'failed' | 'same-content';
  /** Milliseconds since the epoch when the file ended. */
  readonly time: number;
  readonly seconds?: number;
  readonly objects?: number;
  readonly metrics?: SegmentationMetrics;
  /** Output name -> absolute path. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly message?: string;
  readonly step?: string;
  readonly report?: string;
  /** Through a queue: the worker that did it (`host:pid`). */
  readonly worker?: string;
}

export interface RunInfo {
  status: RunStatus;
  pipeline?: string;
  file?: string;
  watch?: boolean;
  total?: number;
  started?: string;
  backends: string[];
  /** The folder every file so far is in (the deepest one), so that the page can show shorter names. */
  folder?: string;
  message?: string;
  exitCode?: number;
  /** The run's own summary (the `stats` event), when it ended. */
  stats?: Extract<RunEvent, { type: 'stats' }>;
}

/** One bucket of the throughput / latency series: files that ended in [t, t + width) seconds after the first. */
export interface TimeBucket {
  t: number;
  done: number;
  failed: number;
  /** Sum and maximum of the done files' seconds, for mean and max latency. */
  seconds: number;
  maxSeconds: number;
}

export interface TrainPoint {
  readonly step: number;
  readonly loss: number;
  readonly learningRate: number;
}

export type ValidationPoint = Omit<Extract<RunEvent, { type: 'validation' }>, 'type'>;

export interface LogLine {
  readonly time: number;
  readonly level: 'info' | 'warn';
  readonly message: string;
}

/** What one folded event changed, to send to the pages as it is. */
export type Delta =
  | { kind: 'run'; run: RunInfo; counts: Counts }
  | { kind: 'file'; row: FileRow; counts: Counts; gallery?: GalleryItem }
  | { kind: 'time'; origin: number; width: number; bucket: TimeBucket; resized: boolean }
  | { kind: 'train'; point: TrainPoint; stride: number }
  | { kind: 'validation'; point: ValidationPoint }
  | { kind: 'log'; line: LogLine };

export interface Counts {
  done: number;
  failed: number;
  sameContent: number;
  rows: number;
  /** Rows let go from the table's start to keep it bounded. */
  evicted: number;
}

export interface GalleryItem {
  readonly seq: number;
  readonly file: string;
  /** The output shown, and its path. */
  readonly output: string;
  readonly path: string;
}

/** Everything a page needs to draw itself, minus the table beyond its first page. */
export interface Snapshot {
  run: RunInfo;
  counts: Counts;
  gallery: GalleryItem[];
  /** `origin`: when the first file ended (ms since the epoch); bucket times count from it. */
  time: { origin?: number; width: number; buckets: TimeBucket[] };
  train: { stride: number; points: TrainPoint[] };
  validation: ValidationPoint[];
  logs: LogLine[];
}

export interface StateLimits {
  /** @default 100000 */
  readonly maxRows?: number;
  /** @default 12 */
  readonly gallery?: number;
  /** Points per series before it coarsens. @default 2000 */
  readonly maxPoints?: number;
  /** Seconds per bucket of the throughput series, to start with (it doubles as the run goes on). @default 10 */
  readonly bucketSeconds?: number;
  /** @default 100 */
  readonly logs?: number;
}

/** Outputs shown in the gallery, best first: the overlay is what a person looks at. */
const GALLERY_OUTPUTS = ['overlay', 'mask', 'image'];

export class RunState {
  readonly run: RunInfo = { status: 'starting', backends: [] };
  private readonly rows: FileRow[] = [];
  /** Where the table starts in `rows`: rows before it were evicted but not yet compacted away. */
  private head = 0;
  private readonly byFile = new Map<string, FileRow>();
  /** The output and report paths the table's rows name, each with the number of rows naming it. */
  private readonly named = new Map<string, number>();
  private readonly counts: Counts = { done: 0, failed: 0, sameContent: 0, rows: 0, evicted: 0 };
  private readonly gallery: GalleryItem[] = [];
  private readonly buckets: TimeBucket[] = [];
  private width: number;
  private origin?: number;
  private train: TrainPoint[] = [];
  private stride = 1;
  private trainSeen = 0;
  private readonly validation: ValidationPoint[] = [];
  private readonly logs: LogLine[] = [];
  private seq = 0;
  private readonly limits: Required<StateLimits>;

  constructor(limits: StateLimits = {}, private readonly now: () => number = Date.now) {
    this.limits = { maxRows: 100_000, gallery: 12, maxPoints: 2000, bucketSeconds: 10, logs: 100, ...limits };
    this.width = this.limits.bucketSeconds;
  }

  /** Folds one event in and says what changed (nothing for events the page does not show). */
  apply(e: ServeEvent): Delta[] {
    switch (e.type) {
      case 'started':
        Object.assign(this.run, { status: 'running', pipeline: e.pipeline, file: e.file, watch: e.watch, started: e.time, total: e.total });
        return [this.runDelta()];
      case 'source':
        this.run.status = e.state;
        if (e.message !== undefined) this.run.message = e.message;
        return [this.runDelta()];
      case 'backend':
        this.run.backends.push(`${e.step}: ${backendLine(e)}`);
        return [this.runDelta()];
      case 'log':
        return [this.log(e.level, e.message)];
      case 'file-done':
        return this.file({ file: e.file, status: 'done', seconds: e.seconds, outputs: e.outputs, ...(e.objects !== undefined ? { objects: e.objects } : {}), ...(e.metrics ? { metrics: e.metrics } : {}), ...(e.worker ? { worker: e.worker } : {}) }, this.now());
      case 'file-failed':
        return this.file(
          // A failure with neither file nor sample id (a stream step's) gets a row of its own.
          { file: e.file ?? e.id ?? `(stream step, failure ${this.seq + 1})`, status: 'failed', outputs: {}, message: e.message, ...(e.step ? { step: e.step } : {}), ...(e.report ? { report: e.report } : {}), ...(e.worker ? { worker: e.worker } : {}) },
          this.now(),
        );
      case 'ledger-entry': {
        const time = Date.parse(e.time);
        const status = e.sameAs ? 'same-content' : e.status;
        return this.file(
          {
            file: e.file,
            status,
            outputs: e.outputs,
            ...(e.seconds !== undefined && !e.sameAs ? { seconds: e.seconds } : {}),
            ...(e.objects !== undefined ? { objects: e.objects } : {}),
            ...(e.error ? { message: e.error } : {}),
            ...(e.report ? { report: e.report } : {}),
            ...(e.sameAs ? { message: `same content as ${e.sameAs}: not processed again` } : {}),
          },
          Number.isFinite(time) ? time : this.now(),
        );
      }
      case 'train-step':
        return this.trainStep({ step: e.step, loss: e.loss, learningRate: e.learningRate });
      case 'validation': {
        const { type: _, ...point } = e;
        this.validation.push(point);
        if (this.validation.length > this.limits.maxPoints) this.validation.splice(0, this.validation.length - this.limits.maxPoints);
        return [{ kind: 'validation', point }];
      }
      case 'checkpoint':
        return [this.log('info', `checkpoint at step ${e.step}: ${e.path}`)];
      case 'stats':
        this.run.stats = e;
        this.run.status = 'finished';
        return [this.runDelta()];
      case 'run-failed':
        Object.assign(this.run, { status: 'failed', message: e.message, exitCode: e.exitCode });
        return [this.runDelta()];
    }
  }

  /** Whether a row of the table names `path` (absolute) as an output or an error report: the only files the page serves. */
  names(path: string): boolean {
    return this.named.has(path);
  }

  /** The page's starting point: everything but the table, whose pages come from `page`. */
  snapshot(): Snapshot {
    return {
      run: { ...this.run, backends: [...this.run.backends] },
      counts: { ...this.counts },
      gallery: [...this.gallery],
      time: { ...(this.origin !== undefined ? { origin: this.origin } : {}), width: this.width, buckets: this.buckets.map((b) => ({ ...b })) },
      train: { stride: this.stride, points: [...this.train] },
      validation: [...this.validation],
      logs: [...this.logs],
    };
  }

  /** Rows newest first: `offset` rows skipped, at most `limit` given; `failed` keeps only failures. */
  page(offset: number, limit: number, filter: 'all' | 'failed' = 'all'): { rows: FileRow[]; total: number } {
    if (filter === 'all') {
      const end = this.rows.length - offset;
      const start = Math.max(this.head, end - limit);
      return { rows: end > start ? this.rows.slice(start, end).reverse() : [], total: this.counts.rows };
    }
    const failed: FileRow[] = [];
    for (let i = this.rows.length - 1; i >= this.head; i--) if (this.rows[i].status === 'failed') failed.push(this.rows[i]);
    return { rows: failed.slice(offset, offset + limit), total: failed.length };
  }

  private runDelta(): Delta {
    return { kind: 'run', run: { ...this.run, backends: [...this.run.backends] }, counts: { ...this.counts } };
  }

  private log(level: LogLine['level'], message: string): Delta {
    const line = { time: this.now(), level, message };
    this.logs.push(line);
    if (this.logs.length > this.limits.logs) this.logs.shift();
    return { kind: 'log', line };
  }

  private file(fields: Omit<FileRow, 'seq' | 'time'>, time: number): Delta[] {
    const row: FileRow = { seq: ++this.seq, time, ...fields };
    const previous = this.byFile.get(row.file);
    if (previous) this.forget(previous);
    this.byFile.set(row.file, row);
    this.rows.push(row);
    this.counts.rows++;
    this.tally(row, +1);
    this.name(row, +1);
    if (this.counts.rows > this.limits.maxRows) this.evictOldest();

    const deltas: Delta[] = [];
    const folder = commonFolder(this.run.folder, row.file);
    if (folder !== this.run.folder) {
      this.run.folder = folder;
      deltas.push(this.runDelta());
    }
    let shown: GalleryItem | undefined;
    const output = GALLERY_OUTPUTS.find((o) => row.outputs[o] && /\.(png|jpe?g|tiff?)$/i.test(row.outputs[o]));
    if (output && row.status !== 'same-content') {
      shown = { seq: row.seq, file: row.file, output, path: row.outputs[output] };
      this.gallery.unshift(shown);
      if (this.gallery.length > this.limits.gallery) this.gallery.pop();
    }
    deltas.push({ kind: 'file', row, counts: { ...this.counts }, ...(shown ? { gallery: shown } : {}) });
    if (row.status !== 'same-content') deltas.push(this.timePoint(row));
    return deltas;
  }

  private name(row: FileRow, by: 1 | -1): void {
    for (const path of [...Object.values(row.outputs), ...(row.report ? [row.report] : [])]) {
      const count = (this.named.get(path) ?? 0) + by;
      if (count > 0) this.named.set(path, count);
      else this.named.delete(path);
    }
  }

  private tally(row: FileRow, by: 1 | -1): void {
    if (row.status === 'done') this.counts.done += by;
    else if (row.status === 'failed') this.counts.failed += by;
    else this.counts.sameContent += by;
  }

  /** A file seen again (changed, and redone): its old row leaves the table. Rare, so a linear search is fine. */
  private forget(row: FileRow): void {
    const i = this.rows.lastIndexOf(row);
    if (i < this.head) return;
    this.rows.splice(i, 1);
    this.counts.rows--;
    this.tally(row, -1);
    this.name(row, -1);
    const g = this.gallery.findIndex((item) => item.seq === row.seq);
    if (g >= 0) this.gallery.splice(g, 1);
  }

  private evictOldest(): void {
    const row = this.rows[this.head++];
    if (this.byFile.get(row.file) === row) this.byFile.delete(row.file);
    this.counts.rows--;
    this.counts.evicted++;
    this.tally(row, -1);
    this.name(row, -1);
    // Compact now and then, so eviction stays O(1) amortised and the array does not grow.
    if (this.head > this.limits.maxRows / 2) {
      this.rows.splice(0, this.head);
      this.head = 0;
    }
  }

  private timePoint(row: FileRow): Delta {
    this.origin ??= row.time;
    // A ledger read back may hold times before the first line's (a file redone): they go in the first bucket.
    const at = Math.max(0, (row.time - this.origin) / 1000);
    let resized = false;
    while (at / this.width >= this.limits.maxPoints) {
      this.coarsen();
      resized = true;
    }
    const t = Math.floor(at / this.width) * this.width;
    let bucket = this.buckets.at(-1);
    if (!bucket || bucket.t < t) {
      bucket = { t, done: 0, failed: 0, seconds: 0, maxSeconds: 0 };
      this.buckets.push(bucket);
    } else if (bucket.t > t) {
      bucket = this.buckets.find((b) => b.t === t) ?? bucket;
    }
    if (row.status === 'failed') bucket.failed++;
    else {
      bucket.done++;
      if (row.seconds !== undefined) {
        bucket.seconds += row.seconds;
        bucket.maxSeconds = Math.max(bucket.maxSeconds, row.seconds);
      }
    }
    return { kind: 'time', origin: this.origin, width: this.width, bucket: { ...bucket }, resized };
  }

  /** Doubles the buckets' width, merging pairs: the series covers twice the time in as many points. */
  private coarsen(): void {
    this.width *= 2;
    const merged: TimeBucket[] = [];
    for (const b of this.buckets) {
      const t = Math.floor(b.t / this.width) * this.width;
      const last = merged.at(-1);
      if (last && last.t === t) {
        last.done += b.done;
        last.failed += b.failed;
        last.seconds += b.seconds;
        last.maxSeconds = Math.max(last.maxSeconds, b.maxSeconds);
      } else merged.push({ ...b, t });
    }
    this.buckets.splice(0, this.buckets.length, ...merged);
  }

  /**
   * Keeps the steps whose index (from 0, in arrival order) is a multiple of `stride`; on
   * reaching maxPoints, every other kept point goes and the stride doubles, so the kept
   * ones stay evenly spaced.
   */
  private trainStep(point: TrainPoint): Delta[] {
    if (this.trainSeen++ % this.stride !== 0) return [];
    this.train.push(point);
    if (this.train.length >= this.limits.maxPoints) {
      // The page halves its copy the same way when it sees the stride double.
      this.train = this.train.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
    return [{ kind: 'train', point, stride: this.stride }];
  }
}

/** The deepest folder holding both `folder` (undefined: none yet) and `file`, with its trailing separator; '' when none. */
export function commonFolder(folder: string | undefined, file: string): string {
  const own = file.slice(0, Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  if (folder === undefined) return own;
  let i = 0;
  while (i < folder.length && i < own.length && folder[i] === own[i]) i++;
  if (i === folder.length) return folder;
  // Back to the last separator both share, so that `/data/ab/` and `/data/ac/` give `/data/`.
  const cut = i === 0 ? -1 : Math.max(folder.lastIndexOf('/', i - 1), folder.lastIndexOf('\\', i - 1));
  return folder.slice(0, cut + 1);
}
