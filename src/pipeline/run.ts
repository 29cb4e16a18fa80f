/**
 * Running a pipeline: each input file flows through the per-sample steps on its own
 * (so it is done or failed as a whole, and recorded in the ledger as such), at most
 * `concurrency` files at once; stream-scoped steps (training) then see all samples.
 * The result is an Observable of RunEvents: `started` first (when the run starts at
 * all), then `stats` when it completes, or `run-failed` when it ends on an error.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { defer, from, mergeMap, Observable, tap, type OperatorFunction } from 'rxjs';
import { exitCodeOf, messageOf } from '../errors.js';
import { adapterLine, type RunEvent } from '../events.js';
import { claimOutputFolder } from '../io/atomic.js';
import { outputCondition } from '../io/writable.js';
import { OutputGate } from './output-gate.js';
import type { Lock } from '../io/lock.js';
import { meanMetrics, type SegmentationMetrics } from '../kernels/metrics/segmentation.js';
import type { Sample, SourceRef } from '../sample.js';
import { defaultRegistry } from './builtins.js';
import { checkPlan, type Note } from './checks.js';
import { compile, PipelineError, type Plan, type RunHooks } from './compile.js';
import { parsePipelineText, readPipelineFile, type PipelineDocument, type ReadOptions } from './document.js';
import { Ledger, lockLedger } from './ledger.js';
import { oneLine } from './outcome.js';
import { FilesInFlight, fileSteps } from './process-file.js';
import { OutputNames } from './output-names.js';
import { defaultStem } from '../io/output-path.js';
import type { OperatorRegistry } from './registry.js';
import { openSource } from './sources/open.js';
import { inferenceHints } from './hints.js';
import { Window } from './window.js';

export interface RunOptions extends ReadOptions {
  /** @default the built-in operators plus those added with registerOperator */
  readonly registry?: OperatorRegistry;
  /** Aborting stops taking new files; files in flight finish, then the run completes. */
  readonly signal?: AbortSignal;
  /** Folder that relative paths of an inline definition resolve against. @default process.cwd() */
  readonly baseDir?: string;
  /** Backend for every model step that names none: `auto`, a tfjs one (`node-gpu`, `node`, `wasm`, `cpu`), or `onnxruntime` (inference only). */
  readonly backend?: string;
  /** Worker threads for every model step that names none. @default the number of cores (wasm, cpu) */
  readonly workers?: number;
}

/** Fields whose values are paths: a relative one given with --set resolves against the pipeline file's folder. */
const PATH_KEYS = new Set(['dir', 'model', 'files', 'images', 'labels', 'watch', 'ledger', 'use', 'from']);

/**
 * Reads and checks a pipeline (a file path, or a definition object) without running it:
 * the file against its schema, each step's parameters, and what can be known before a
 * file is taken (folders read and written, models). Throws a PipelineError listing
 * every problem.
 */
export async function loadPipeline(input: string | object, options: RunOptions = {}, hooks: RunHooks = {}): Promise<Plan> {
  const inline = typeof input !== 'string';
  const file = inline ? '<inline pipeline>' : input;
  // Inline definitions take the same path through YAML so that --set and ${NAME} apply alike.
  const read = inline ? parsePipelineText(JSON.stringify(input), file, options) : await readPipelineFile(file, options);
  if (!read.document) throw new PipelineError(file, read.problems);
  const document: PipelineDocument = inline ? { ...read.document, locate: () => undefined } : read.document;
  const baseDir = inline ? resolve(options.baseDir ?? process.cwd()) : undefined;
  // Report the file's problems and the steps' problems together.
  const { plan, problems } = await compile(document, options.registry ?? defaultRegistry, hooks, baseDir);
  if (!plan || read.problems.length) throw new PipelineError(file, [...read.problems, ...problems]);
  const checked = await checkPlan(plan, document.locate);
  if (checked.problems.length) throw new PipelineError(file, checked.problems);
  return { ...plan, notes: [...setNotes(options.set ?? [], plan.baseDir), ...checked.notes] };
}

/** Says where relative paths given with --set went, which surprises people who expect the working folder. */
function setNotes(assignments: readonly string[], baseDir: string): Note[] {
  return assignments.flatMap((a) => {
    const eq = a.indexOf('=');
    const key = a.slice(0, eq).split('.').pop() ?? '';
    const value = a.slice(eq + 1);
    if (eq <= 0 || !PATH_KEYS.has(key) || !value || isAbsolute(value) || /[{[]/.test(value)) return [];
    return [{ message: `--set ${a}: a relative path, resolved against the pipeline file's folder: ${resolve(baseDir, value)}` }];
  });
}

/**
 * Runs a pipeline file (or definition) and streams its events. Errors in the file
 * itself error the Observable with a PipelineError listing every problem.
 *
 * @example
 * runPipeline('pipelines/segment.yaml', { set: ['source.files=in'] }).subscribe((e) => console.log(e));
 */
export function runPipeline(input: string | object, options: RunOptions = {}): Observable<RunEvent> {
  return new Observable<RunEvent>((subscriber) => {
    const stop = new AbortController();
    const onOuterAbort = () => stop.abort();
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const backends: Extract<RunEvent, { type: 'backend' }>[] = [];
    // `started` comes first: what is said while starting waits for it.
    const early: RunEvent[] = [];
    let started = false;
    const emit = (event: RunEvent) => {
      if (event.type === 'backend') backends.push(event);
      if (!started && event.type !== 'started') return void early.push(event);
      subscriber.next(event);
      if (event.type === 'started') {
        started = true;
        for (const e of early.splice(0)) subscriber.next(e);
      }
    };
    const inFlightFiles = new FilesInFlight();
    let streamFailures = 0;
    const window = new Window();
    const hooks: RunHooks = {
      emit,
      signal: stop.signal,
      ...(options.backend ? { backend: options.backend } : {}),
      ...(options.workers ? { workers: options.workers } : {}),
      onSampleError: (error) => {
        if (inFlightFiles.report(error)) return;
        // A stream-scoped step (its file is done) dropped a sample: report it now, and it leaves the window.
        streamFailures++;
        window.leave();
        emit({ type: 'file-failed', ...(error.sample ? { id: error.sample } : {}), ...(error.file ? { file: error.file } : {}), ...(error.step ? { step: error.step } : {}), message: oneLine(error.message) });
      },
    };
    let inner: { unsubscribe(): void } | undefined;
    const begun = Date.now();
    const counts = { done: 0, failed: 0, skipped: 0, unchangedFailed: 0 };
    const fileMetrics: SegmentationMetrics[] = [];
    const stats = (): RunEvent => {
      const metrics = fileMetrics.length ? meanMetrics(fileMetrics) : undefined;
      const last = backends.at(-1);
      const hints = inferenceHints(backends);
      return {
        type: 'stats',
        ...counts,
        failed: counts.failed + streamFailures,
        seconds: (Date.now() - begun) / 1000,
        ...(last ? { backend: `${last.name} (${last.package}, ${last.workers} worker${last.workers === 1 ? '' : 's'}${last.adapter ? `, ${adapterLine(last.adapter)}` : ''})` } : {}),
        ...(metrics ? { metrics } : {}),
        ...(hints.length ? { hints } : {}),
      };
    };
    let ended = false;
    const fail = (error: unknown) => {
      if (ended) return;
      ended = true;
      stop.abort();
      inner?.unsubscribe();
      if (started) subscriber.next(stats());
      else for (const e of early.splice(0)) subscriber.next(e);
      subscriber.next({ type: 'run-failed', message: messageOf(error), exitCode: exitCodeOf(error) });
      subscriber.error(error);
    };
    // Locks on the output folder and the ledger: released (synchronously) when the run ends in any way.
    const locks: Lock[] = [];
    let locksReleased = false;
    const hold = (lock: Lock) => {
      if (locksReleased) return lock.release();
      locks.push(lock);
      if (lock.recovered) emit({ type: 'log', level: 'info', message: lock.recovered.message });
    };
    const onLockLost = (message: string) => {
      emit({ type: 'log', level: 'warn', message });
      stop.abort();
    };

    (async () => {
      const plan = await loadPipeline(input, options, hooks);
      const { definition } = plan;
      if (plan.outputDir) {
        const claim = await claimOutputFolder(plan.outputDir, onLockLost);
        hold(claim.lock);
        for (const path of claim.removed) emit({ type: 'log', level: 'info', message: `removed ${path}, left by a writer that stopped mid-write` });
      }
      for (const note of plan.notes ?? []) if (!note.validateOnly) emit({ type: 'log', level: 'info', message: note.message });
      const source = await openSource(plan, stop.signal, emit);
      if (source.watch) hold(await lockLedger(source.ledgerFile!, onLockLost));
      const ledger = source.watch ? await Ledger.open(source.ledgerFile!, source.root) : undefined;
      const names = new OutputNames();
      // Earlier runs' output names hold: a file arriving now never takes a name already given.
      for (const e of ledger?.list() ?? []) {
        if (!e.sameAs) names.restore(e.absolutePath, e.stem ?? defaultStem({ path: e.absolutePath, root: source.root }));
      }
      emit({ type: 'started', pipeline: definition.name, file: plan.file, time: new Date().toISOString(), watch: source.watch, ...(source.total !== undefined ? { total: source.total } : {}) });

      const steps = fileSteps(plan);
      const streamSteps = plan.steps.filter((s) => s.scope === 'stream');
      const perStream = streamSteps.map((s) => s.operator);
      window.size = streamSteps[0]?.window;
      const stopOnError = definition['on-error'] === 'stop';
      const inFlight = new Map<string, Promise<unknown>>();

      const processFile = async (taken: SourceRef): Promise<Sample[]> => {
        // Claimed as files are taken, in the source's order, so names do not depend on timing.
        const ref: SourceRef = { ...taken, outputStem: names.claim(taken) };
        // A file seen again while in flight waits for that run, then finds itself in the ledger.
        while (inFlight.has(ref.path)) await inFlight.get(ref.path);
        await window.room();
        if (stop.signal.aborted) return []; // queued but not started: left for the next run
        const work = handleFile(ref);
        inFlight.set(ref.path, work);
        try {
          return await work;
        } finally {
          inFlight.delete(ref.path);
        }
      };

      // A folder that cannot be written is the run's condition: a watch run waits it out, a batch run ends (exit 4).
      const gate = new OutputGate(emit, stop.signal);
      const conditionDirs = [...steps.outputDirs, ...(source.ledgerFile ? [dirname(source.ledgerFile)] : [])];
      const handleFile = async (ref: SourceRef): Promise<Sample[]> => {
        for (;;) {
          await gate.pass();
          if (stop.signal.aborted) return [];
          try {
            return await handleOnce(ref);
          } catch (error) {
            const condition = await outputCondition(error, conditionDirs);
            if (!condition) throw error;
            if (!source.watch) throw condition;
            gate.close(condition);
          }
        }
      };

      const handleOnce = async (ref: SourceRef): Promise<Sample[]> => {
        let fingerprint;
        if (ledger) {
          const check = await ledger.check(ref.path).catch((error: unknown) => {
            emit({ type: 'log', level: 'warn', file: ref.path, message: `${ref.path}: skipped, it vanished before it could be read (${messageOf(error)})` });
          });
          if (!check) return [];
          if (!check.process) {
            if (check.reason === 'failed-before') counts.unchangedFailed++;
            else counts.skipped++;
            if (check.reason === 'same-content') {
              const { sameAs } = await ledger.recordSameContent(ref.path, check.fingerprint, check.entry);
              const original = resolve(ledger.root, sameAs!);
              emit({ type: 'log', level: 'info', file: ref.path, message: `${ref.path}: same content as ${original}, which is done: not processed again; recorded in the ledger with its outputs` });
            }
            return [];
          }
          fingerprint = check.fingerprint;
        }
        const outcome = await inFlightFiles.process(ref, steps);
        // Recorded before it is counted and told: a ledger the disk refuses leaves the file to be redone, told once.
        if (outcome.failed) {
          if (ledger && fingerprint) await ledger.record(ref.path, { ...fingerprint, status: 'failed', outputs: {}, stem: ref.outputStem, error: oneLine(outcome.failures[0].message) });
          counts.failed++;
          emit(outcome.event);
          if (stopOnError) throw outcome.failures[0];
          return [];
        }
        if (ledger && fingerprint) {
          // Written to while we read it? Then the watcher reports it again and it is redone.
          const now = await stat(ref.path).catch(() => undefined);
          if (now && now.size === fingerprint.size && now.mtimeMs === fingerprint.mtimeMs) {
            const { outputs, seconds, objects } = outcome.event;
            await ledger.record(ref.path, { ...fingerprint, status: 'done', outputs, stem: ref.outputStem, seconds, ...(objects !== undefined ? { objects } : {}) });
          }
        }
        counts.done++;
        if (outcome.metrics) fileMetrics.push(outcome.metrics);
        emit(outcome.event);
        return outcome.kept;
      };

      const processed = source.refs.pipe(
        mergeMap((ref) => defer(() => processFile(ref)).pipe(mergeMap((s) => from(s))), definition.concurrency ?? 2),
        tap(() => window.enter()),
      );
      const final = perStream.reduce<Observable<any>>((o, op) => o.pipe(op as OperatorFunction<any, any>), processed).pipe(tap(() => window.leave()));
      inner = final.subscribe({
        error: fail,
        complete: () => {
          if (ended) return;
          ended = true;
          subscriber.next(stats());
          subscriber.complete();
        },
      });
    })().catch(fail);

    return () => {
      options.signal?.removeEventListener('abort', onOuterAbort);
      stop.abort();
      inner?.unsubscribe();
      locksReleased = true;
      for (const lock of locks.splice(0)) lock.release();
    };
  });
}
