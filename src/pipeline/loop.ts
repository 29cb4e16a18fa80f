/**
 * The run loop, one for every way of running. Each file the source gives is named (its
 * output stem, claimed in the source's order), checked against the ledger (done, failed
 * before and unchanged, or the same content as a done file: skipped and counted), then
 * handed to a sink, which does it here (run.ts) or hands it to a queue's workers
 * (src/queue/producer.ts); what became of it is counted and told once. An output folder
 * that cannot be written is the run's condition: a watch run waits it out at the gate,
 * a batch ends on it (exit 4).
 */
import { resolve } from 'node:path';
import { concat, defer, EMPTY, from, ignoreElements, mergeMap, type Observable } from 'rxjs';
import type { SampleError } from '../errors.js';
import type { RunEvent } from '../events.js';
import { defaultStem } from '../io/output-path.js';
import { outputCondition } from '../io/writable.js';
import { meanMetrics, type SegmentationMetrics } from '../kernels/metrics/segmentation.js';
import type { Sample, SourceRef } from '../sample.js';
import type { CheckResult, Fingerprint, LedgerEntry } from './ledger.js';
import { OutputGate } from './output-gate.js';
import { OutputNames } from './output-names.js';
import { failedBeforeNote, uncheckedNote } from './skip-notes.js';

/** What the loop asks of a ledger (the file's, or Redis's for a queue). */
export interface LoopLedger {
  /** The source folder its paths are relative to. */
  readonly root: string;
  check(path: string): Promise<CheckResult>;
  recordSameContent(path: string, fingerprint: Fingerprint, original: LedgerEntry): Promise<LedgerEntry>;
}

/** What became of a file the sink took. */
export type Settled =
  | { readonly type: 'done'; readonly event: Extract<RunEvent, { type: 'file-done' }>; readonly kept?: readonly Sample[] }
  /** `stop`: the failure that ends an `on-error: stop` run. */
  | { readonly type: 'failed'; readonly event: Extract<RunEvent, { type: 'file-failed' }>; readonly stop?: SampleError }
  /** Not done again: the same content as a done file (`original`, absolute), recorded as such; `how` ends the log line. */
  | { readonly type: 'same-content'; readonly original: string; readonly how: string };

/** Where the files the ledger says need doing go. */
export interface FileSink {
  /** Files in the sink at once. */
  readonly concurrency: number;
  /** Resolves once another file may start. */
  room?(): Promise<void>;
  /**
   * Does the file (in-process: its steps, then its ledger record) or hands it over (a
   * queue); resolves with what became of it, or undefined where that is told later,
   * through `RunLoop.settle`. Throws what ends the run.
   */
  take(ref: SourceRef, fingerprint: Fingerprint | undefined): Promise<Settled | undefined>;
  /** Once the source is over and every `take` has resolved: resolves when nothing is owed to `settle` any more. */
  drain?(): Promise<void>;
}

export interface LoopOptions {
  readonly ledger?: LoopLedger;
  /** Earlier runs' entries: the output names they gave hold. */
  readonly entries?: Iterable<LedgerEntry>;
  /** A watch run waits for an unwritable output folder; a batch ends on it. */
  readonly watch: boolean;
  /** The folders a full disk or a read-only mount can refuse (none: the sink writes nothing). */
  readonly outputDirs: readonly string[];
}

export class RunLoop {
  readonly counts = { done: 0, failed: 0, skipped: 0, unchangedFailed: 0 };
  /** Samples a stream-scoped step (training) dropped after their file was done. */
  private streamFailures = 0;
  private readonly metrics: SegmentationMetrics[] = [];
  private readonly begun = Date.now();
  private readonly toldFailedBefore = new Set<string>();

  constructor(
    private readonly emit: (e: RunEvent) => void,
    private readonly signal: AbortSignal,
  ) {}

  /** The files of `refs` through `sink`; emits the samples the sink kept for stream-scoped steps. */
  run(refs: Observable<SourceRef>, sink: FileSink, o: LoopOptions): Observable<Sample> {
    const { ledger } = o;
    const names = new OutputNames();
    for (const e of o.entries ?? []) {
      if (!e.sameAs && ledger) names.restore(resolve(ledger.root, e.path), e.stem ?? defaultStem({ path: resolve(ledger.root, e.path), root: ledger.root }));
    }
    const gate = new OutputGate(this.emit, this.signal);
    const inFlight = new Map<string, Promise<unknown>>();

    const take = async (taken: SourceRef): Promise<readonly Sample[]> => {
      // Claimed as files are taken, in the source's order, so names do not depend on timing.
      const ref: SourceRef = { ...taken, outputStem: names.claim(taken) };
      // A file seen again while in flight waits for that run, then finds itself in the ledger.
      while (inFlight.has(ref.path)) await inFlight.get(ref.path);
      await sink.room?.();
      if (this.signal.aborted) return []; // queued but not started: left for the next run
      const work = attempt(ref);
      inFlight.set(ref.path, work);
      try {
        return await work;
      } finally {
        inFlight.delete(ref.path);
      }
    };

    const attempt = async (ref: SourceRef): Promise<readonly Sample[]> => {
      for (;;) {
        await gate.pass();
        if (this.signal.aborted) return [];
        try {
          const fingerprint = ledger ? await this.admit(ledger, ref) : undefined;
          if (ledger && !fingerprint) return [];
          const settled = await sink.take(ref, fingerprint);
          return settled ? this.settle(ref, settled) : [];
        } catch (error) {
          const condition = o.outputDirs.length ? await outputCondition(error, o.outputDirs) : undefined;
          if (!condition) throw error;
          if (!o.watch) throw condition;
          gate.close(condition);
        }
      }
    };

    const files = refs.pipe(mergeMap((ref) => defer(() => take(ref)).pipe(mergeMap((s) => from(s))), sink.concurrency));
    return concat(files, sink.drain ? defer(() => sink.drain!()).pipe(ignoreElements()) : EMPTY);
  }

  /** The ledger's word on `ref`: its fingerprint when it needs doing; undefined when skipped (counted and said). */
  private async admit(ledger: LoopLedger, ref: SourceRef): Promise<Fingerprint | undefined> {
    let check: CheckResult;
    try {
      check = await ledger.check(ref.path);
    } catch (error) {
      this.emit({ type: 'log', level: 'warn', file: ref.path, message: uncheckedNote(ref.path, error) });
      return undefined;
    }
    if (check.process) return check.fingerprint;
    if (check.reason === 'failed-before') {
      this.counts.unchangedFailed++;
      // Once per file and run: a watcher may see it again and again.
      if (!this.toldFailedBefore.has(ref.path)) {
        this.toldFailedBefore.add(ref.path);
        this.emit({ type: 'log', level: 'info', file: ref.path, message: failedBeforeNote(ref.path, check.entry) });
      }
    }
    else if (check.reason === 'done') this.counts.skipped++;
    else {
      const { sameAs } = await ledger.recordSameContent(ref.path, check.fingerprint, check.entry);
      this.settle(ref, { type: 'same-content', original: resolve(ledger.root, sameAs!), how: 'which is done: not processed again; recorded in the ledger with its outputs' });
    }
    return undefined;
  }

  /** Counts and tells what became of a file; returns the samples it kept. Throws the failure that ends an `on-error: stop` run. */
  settle(ref: SourceRef, s: Settled): readonly Sample[] {
    if (s.type === 'same-content') {
      this.counts.skipped++;
      this.emit({ type: 'log', level: 'info', file: ref.path, message: `${ref.path}: same content as ${s.original}, ${s.how}` });
      return [];
    }
    if (s.type === 'failed') {
      this.counts.failed++;
      this.emit(s.event);
      if (s.stop) throw s.stop;
      return [];
    }
    this.counts.done++;
    if (s.event.metrics) this.metrics.push(s.event.metrics);
    this.emit(s.event);
    return s.kept ?? [];
  }

  /** A sample a stream-scoped step dropped after its file was done: told now, counted as a failure. */
  streamFailed(event: Extract<RunEvent, { type: 'file-failed' }>): void {
    this.streamFailures++;
    this.emit(event);
  }

  stats(more: { readonly backend?: string; readonly hints?: readonly string[] } = {}): RunEvent {
    return {
      type: 'stats',
      ...this.counts,
      failed: this.counts.failed + this.streamFailures,
      seconds: (Date.now() - this.begun) / 1000,
      ...(more.backend ? { backend: more.backend } : {}),
      ...(this.metrics.length ? { metrics: meanMetrics(this.metrics) } : {}),
      ...(more.hints?.length ? { hints: [...more.hints] } : {}),
    };
  }
}
