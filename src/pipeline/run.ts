/**
 * Running a pipeline in this process: the run loop (loop.ts) with a sink that takes each
 * input file through the per-sample steps on its own (so it is done or failed as a
 * whole, and recorded in the ledger as such), at most `concurrency` files at once;
 * stream-scoped steps (training) then see all samples. The result is the session's
 * Observable of RunEvents (session.ts): `started` first (when the run starts at all),
 * then `stats` when it completes, or `run-failed` when it ends on an error.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { Observable, tap, type OperatorFunction } from 'rxjs';
import type { RunEvent } from '../events.js';
import type { InferenceBackendChoice } from '../model/engines/engine.js';
import { backendLine } from '../model/engines/report.js';
import { claimOutputFolder } from '../io/atomic.js';
import type { Lock } from '../io/lock.js';
import type { SourceRef } from '../sample.js';
import { defaultRegistry } from './builtins.js';
import { checkPlan } from './checks.js';
import { compile } from './compile.js';
import { PipelineError } from './pipeline-error.js';
import type { Note, Plan, RunHooks } from './plan.js';
import { parsePipelineText, readPipelineFile, type PipelineDocument, type ReadOptions } from './document.js';
import { Ledger, lockLedger, type Fingerprint } from './ledger.js';
import { oneLine } from './outcome.js';
import { RunLoop, type FileSink, type Settled } from './loop.js';
import { FilesInFlight, fileHooks, fileSteps, type FileSteps } from './process-file.js';
import type { OperatorRegistry } from './registry.js';
import { runSession } from './session.js';
import { openSource } from './sources/open.js';
import { inferenceHints } from './hints.js';
import { refuseCrashLoop } from './crash-loop.js';
import { vanishedMessage } from './vanished.js';
import { Window } from './window.js';

export interface RunOptions extends ReadOptions {
  /** @default the built-in operators plus those added with registerOperator */
  readonly registry?: OperatorRegistry;
  /** Aborting stops taking new files; files in flight finish, then the run completes. */
  readonly signal?: AbortSignal;
  /** Folder that relative paths of an inline definition resolve against. @default process.cwd() */
  readonly baseDir?: string;
  /** Backend for every model step that names none: `auto`, a tfjs one (`node-gpu`, `node`, `wasm`, `cpu`), or `onnxruntime`. */
  readonly backend?: InferenceBackendChoice;
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
  return runSession(options.signal, async (session) => {
    const backends: Extract<RunEvent, { type: 'backend' }>[] = [];
    const emit = (event: RunEvent) => {
      if (event.type === 'backend') backends.push(event);
      session.emit(event);
    };
    const loop = new RunLoop(emit, session.signal);
    session.stats = () => {
      const last = backends.at(-1);
      return loop.stats({
        ...(last ? { backend: backendLine(last) } : {}),
        hints: inferenceHints(backends),
      });
    };
    const window = new Window();
    const files = new FilesInFlight();
    const hooks = fileHooks(files, { ...options, emit, signal: session.signal }, (error) => {
      // A stream-scoped step (its file is done) dropped a sample: report it now, and it leaves the window.
      window.leave();
      loop.streamFailed({ type: 'file-failed', ...(error.sample ? { id: error.sample } : {}), ...(error.file ? { file: error.file } : {}), ...(error.step ? { step: error.step } : {}), message: oneLine(error.message) });
    });
    // Locks on the output folder and the ledger: released (synchronously) when the run ends in any way.
    const hold = (lock: Lock) => {
      session.onEnd(() => lock.release());
      if (lock.recovered) emit({ type: 'log', level: 'info', message: lock.recovered.message });
    };
    const onLockLost = (message: string) => {
      emit({ type: 'log', level: 'warn', message });
      session.stop();
    };

    const plan = await loadPipeline(input, options, hooks);
    const { definition } = plan;
    if (plan.outputDir) {
      const claim = await claimOutputFolder(plan.outputDir, onLockLost);
      hold(claim.lock);
      for (const path of claim.removed) emit({ type: 'log', level: 'info', message: `removed ${path}, left by a writer that stopped mid-write` });
    }
    for (const note of plan.notes ?? []) if (!note.validateOnly) emit({ type: 'log', level: 'info', message: note.message });
    const source = await openSource(plan, session.signal, emit);
    if (source.watch) hold(await lockLedger(source.ledgerFile!, onLockLost));
    const ledger = source.watch ? await Ledger.open(source.ledgerFile!, source.root) : undefined;
    for (const message of ledger?.recovered ?? []) emit({ type: 'log', level: 'warn', message });
    emit({ type: 'started', pipeline: definition.name, file: plan.file, time: new Date().toISOString(), watch: source.watch, ...(source.total !== undefined ? { total: source.total } : {}) });

    const steps = fileSteps(plan);
    const streamSteps = plan.steps.filter((s) => s.scope === 'stream');
    window.size = streamSteps[0]?.window;
    const sink = processHere(files, steps, ledger, window, definition.concurrency ?? 2, definition['on-error'] === 'stop', emit);
    const outputDirs = [...steps.outputDirs, ...(source.ledgerFile ? [dirname(source.ledgerFile)] : [])];
    const processed = loop.run(source.refs, sink, { ...(ledger ? { ledger, entries: ledger.list() } : {}), watch: source.watch, outputDirs }).pipe(tap(() => window.enter()));
    const final = streamSteps.map((s) => s.operator).reduce<Observable<any>>((o, op) => o.pipe(op as OperatorFunction<any, any>), processed).pipe(tap(() => window.leave()));
    await new Promise<void>((done, fail) => {
      const subscription = final.subscribe({ error: fail, complete: done });
      session.onEnd(() => subscription.unsubscribe());
    });
  });
}

/**
 * The in-process sink: each file through its steps here, then recorded in the ledger
 * (watch runs) before the loop counts and tells it, so that a ledger the disk refuses
 * leaves the file to be redone, told once. The ledger notes the file as in progress while
 * it is worked on, so that one that keeps taking the run down is not taken forever
 * (crash-loop.ts); one that vanished while read is nobody's failure and is not told as one.
 */
function processHere(
  files: FilesInFlight,
  steps: FileSteps,
  ledger: Ledger | undefined,
  window: Window,
  concurrency: number,
  stopOnError: boolean,
  emit: (e: RunEvent) => void,
): FileSink {
  return {
    concurrency,
    room: () => window.room(),
    take: async (ref, fingerprint) => {
      if (!ledger || !fingerprint) return settle(ref, fingerprint);
      try {
        const refused = await refuseCrashLoop(ledger, ref, fingerprint, steps);
        if (refused) return { type: 'failed', event: refused };
        await ledger.start(ref.path, fingerprint);
        return await settle(ref, fingerprint);
      } finally {
        ledger.release(ref.path);
      }
    },
  };

  async function settle(ref: SourceRef, fingerprint: Fingerprint | undefined): Promise<Settled | undefined> {
    const outcome = await files.process(ref, steps);
    if (outcome.failed && outcome.vanished) {
      emit({ type: 'log', level: 'warn', file: ref.path, message: vanishedMessage(ref, outcome.failures[0]) });
      return undefined;
    }
    if (outcome.failed) {
      if (ledger && fingerprint) await ledger.record(ref.path, { ...fingerprint, status: 'failed', outputs: {}, stem: ref.outputStem, error: oneLine(outcome.failures[0].message) });
      return { type: 'failed', event: outcome.event, ...(stopOnError ? { stop: outcome.failures[0] } : {}) };
    }
    if (ledger && fingerprint) {
      // Written to while we read it? Then the watcher reports it again and it is redone.
      const now = await stat(ref.path).catch(() => undefined);
      if (now && now.size === fingerprint.size && now.mtimeMs === fingerprint.mtimeMs) {
        const { outputs, seconds, objects } = outcome.event;
        await ledger.record(ref.path, { ...fingerprint, status: 'done', outputs, stem: ref.outputStem, seconds, ...(objects !== undefined ? { objects } : {}) });
      }
    }
    return { type: 'done', event: outcome.event, kept: outcome.kept };
  }
}
