/**
 * A queue worker: takes a pipeline's jobs from Redis and runs each input through the
 * per-file steps (process-file.ts, as an in-process run does), `concurrency` at once.
 *
 * - A job is checked first: made by the same pipeline (its hash), naming a path inside
 *   this worker's source folder (roots.ts). Otherwise it fails at once, is reported to
 *   the producers, and is not recorded in the ledger: the file is not at fault.
 * - A job the ledger already has (a worker died between recording it and telling
 *   BullMQ) is reported again, not redone.
 * - A file that fails for its own reasons fails once: report, ledger, no retry. A
 *   failure whose cause is transient (I/O or network errors) is thrown back to BullMQ,
 *   which retries it with backoff until its last attempt, which is recorded.
 * - The pipeline's own fault (a model that will not load) gives the job back for
 *   another worker and stops this one (exit 2).
 * - An output folder this worker cannot write (a full disk, a read-only or gone folder)
 *   gives the job back unrecorded, for any worker, and this one takes no job until a
 *   test write there works again.
 * - Stopping (the signal) finishes the jobs in flight, then resolves.
 */
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, extname } from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { causes, messageOf } from '../errors.js';
import type { RunEvent } from '../events.js';
import { OutputUnwritable, outputCondition } from '../io/writable.js';
import { OutputGate } from '../pipeline/output-gate.js';
import { oneLine } from '../pipeline/outcome.js';
import { FilesInFlight, fileHooks, fileSteps } from '../pipeline/process-file.js';
import { loadPipeline, type RunOptions } from '../pipeline/run.js';
import { sourceFolders } from '../pipeline/sources/open.js';
import type { SourceRef } from '../sample.js';
import { connect } from './connection.js';
import { decodeJob } from './job.js';
import { PREFIX } from './keys.js';
import { portable, portablePath, removeJobTemporaries } from './outputs.js';
import { RedisLedger } from './redis-ledger.js';
import { publish, type Relayed } from './relay.js';
import { insideRoot } from './roots.js';
import { queueSettings } from './settings.js';

export interface WorkerOptions extends RunOptions {
  /** The queue's URL; @default the pipeline's `queue:` section's */
  readonly queue?: string;
  /** Jobs at once. @default the pipeline's concurrency, else 2 */
  readonly concurrency?: number;
  /** Aborting stops taking jobs; the worker resolves once those in flight are over. */
  readonly signal: AbortSignal;
}

/** errno codes of failures that may pass: the file system or network, not the file. */
const TRANSIENT = new Set(['EIO', 'EAGAIN', 'EBUSY', 'ESTALE', 'ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EMFILE', 'ENFILE']);

export function isTransient(error: unknown): boolean {
  for (const e of causes(error)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT.has(code)) return true;
  }
  return false;
}

/** This worker's name in events and `status`: `host:pid`. */
export const workerName = () => `${hostname()}:${process.pid}`;

/** Runs a worker until `signal` aborts (resolves 0) or the pipeline proves unable to run (rejects). */
export async function runWorker(file: string, options: WorkerOptions, emit: (e: RunEvent) => void): Promise<void> {
  const inFlight = new FilesInFlight();
  const plan = await loadPipeline(file, options, fileHooks(inFlight, { ...options, emit }, (error) => emit({ type: 'log', level: 'warn', message: oneLine(error.message) })));
  const settings = queueSettings(plan, options.queue);
  const { connection, queue } = settings;
  const steps = fileSteps(plan);
  const [images, labels] = sourceFolders(plan).map((f) => f.query.dir);
  const redis = await connect(connection);
  const ledger = new RedisLedger(redis, queue, images);
  const me = workerName();
  let fault: unknown;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });

  /** Records (when `entry` is given) and reports a job's outcome; `redo: false` for one reported again, not redone. */
  const report = async (job: Job, key: string, event: Relayed['event'], entry?: Parameters<RedisLedger['recordKey']>[1], redo = true) => {
    const relayed = { job: job.id!, key, event: portableEvent({ ...event, worker: me }, plan.outputDir) };
    if (entry) await ledger.recordKey(key, entry, relayed);
    else await publish(redis, queue, relayed);
    if (redo) emit({ ...event, worker: me });
    else emit({ type: 'log', level: 'info', file: event.file, message: `${event.file}: already in the ledger (its worker stopped before the queue heard of it): reported again, not redone` });
  };
  /** A job this worker will not run: reported, not recorded, not retried. */
  const refuse = async (job: Job, key: string, message: string): Promise<never> => {
    await report(job, key, { type: 'file-failed', id: basename(key, extname(key)), file: key, message });
    throw new UnrecoverableError(message);
  };

  const processor = async (job: Job): Promise<string> => {
    const data = decodeJob(job.data);
    if (typeof data === 'string') return refuse(job, '', `job ${job.id}: not a unetflow job (${data})`);
    if (data.pipeline !== settings.pipelineHash) {
      return refuse(
        job,
        data.path,
        `${data.path}: not processed: the job was made by a pipeline whose steps differ from this worker's ${plan.file} ` +
          `(pipeline hash ${data.pipeline.slice(0, 12)}, this worker's ${settings.pipelineHash.slice(0, 12)}); give the producer and every worker the same pipeline file`,
      );
    }
    let ref: SourceRef;
    try {
      const path = await insideRoot(images, data.path);
      const labelPath = data.label !== undefined ? await insideRoot(labels ?? images, data.label) : undefined;
      ref = { path, root: images, outputStem: data.stem, ...(labelPath ? { labelPath } : {}) };
    } catch (error) {
      return refuse(job, data.path, messageOf(error));
    }
    const fingerprint = { size: data.size, mtimeMs: data.mtimeMs, hash: data.hash };
    const known = await ledger.getKey(data.path);
    if (known && known.hash === data.hash && !known.sameAs) {
      // Recorded by a worker that died before BullMQ heard of it: reported again, not redone.
      const id = basename(data.path, extname(data.path));
      await report(job, data.path, known.status === 'done'
        ? { type: 'file-done', id, file: ref.path, seconds: 0, outputs: known.outputs }
        : { type: 'file-failed', id, file: ref.path, message: known.error ?? 'failed' }, undefined, false);
      return known.status;
    }
    for (const path of await removeJobTemporaries(ref, steps.saveTargets, plan.outputDir)) {
      emit({ type: 'log', level: 'info', file: ref.path, message: `removed ${path}, left by a worker that stopped mid-write` });
    }
    let outcome;
    try {
      outcome = await inFlight.process(ref, steps);
    } catch (error) {
      if (error instanceof OutputUnwritable) throw error; // see giveBack
      // The pipeline's fault: the job goes back (BullMQ retries it, maybe elsewhere) and this worker stops.
      fault ??= error;
      stop.abort();
      throw error;
    }
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (outcome.failed && !last && outcome.failures.some(isTransient)) {
      throw new Error(`${outcome.event.message} (transient: attempt ${job.attemptsMade + 1} of ${job.opts.attempts}, retried)`, { cause: outcome.failures[0] });
    }
    // Written to since it was enqueued? Then it is not recorded: its new content gets a job of its own.
    const now = await stat(ref.path).catch(() => undefined);
    const unchanged = now && now.size === data.size && now.mtimeMs === data.mtimeMs;
    const entry = outcome.failed
      ? { ...fingerprint, status: 'failed' as const, outputs: {}, stem: data.stem, error: oneLine(outcome.failures[0].message) }
      : { ...fingerprint, status: 'done' as const, outputs: portable(outcome.event.outputs, plan.outputDir), stem: data.stem };
    await report(job, data.path, outcome.event, unchanged ? entry : undefined);
    return outcome.failed ? 'failed' : 'done';
  };

  const gate = new OutputGate(emit, stop.signal);
  /** The run's condition, not the file's: the job goes back to the queue as it was (no attempt spent), and this worker waits. */
  const giveBack = async (job: Job, token: string | undefined, condition: OutputUnwritable): Promise<never> => {
    if (!gate.waiting) {
      gate.close(condition);
      worker.pause(true).catch(() => undefined);
      void gate.pass().then(() => {
        if (!stop.signal.aborted) worker.resume().catch(() => undefined);
      });
    }
    await job.moveToWait(token);
    throw new WaitingError();
  };
  const onCondition = async (job: Job, token: string | undefined, error: unknown): Promise<never> => {
    const condition = await outputCondition(error, steps.outputDirs);
    if (condition) return giveBack(job, token, condition);
    throw error;
  };

  const worker = new Worker(queue, (job, token) => processor(job).catch((error: unknown) => onCondition(job, token, error)), {
    connection: connection.options,
    prefix: PREFIX,
    name: me,
    concurrency: options.concurrency ?? plan.definition.concurrency ?? 2,
    lockDuration: settings.lockMs,
    stalledInterval: settings.stalledMs,
    maxStalledCount: settings.maxStalled,
  });
  const said = new Set<string>();
  worker.on('error', (error) => {
    // A Redis restart repeats the same refusal many times a second: once is enough.
    const message = connection.redact(messageOf(error));
    if (said.has(message)) return;
    said.add(message);
    emit({ type: 'log', level: 'warn', message: `queue: ${message}` });
  });
  worker.on('failed', (job, error) => {
    if (job && !(error instanceof UnrecoverableError)) emit({ type: 'log', level: 'warn', message: `job ${job.data?.path ?? job.id}: ${oneLine(connection.redact(messageOf(error)))}` });
  });
  emit({ type: 'log', level: 'info', message: `worker ${me}: taking jobs of ${queue} from ${connection.display}, ${worker.opts.concurrency} at once` });
  try {
    if (!stop.signal.aborted) await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
    await worker.close();
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    redis.disconnect();
  }
  if (fault) throw fault;
}

/** An event as it travels: the worker's paths inside its output folder made relative to it. */
function portableEvent(event: Relayed['event'], outputDir: string | undefined): Relayed['event'] {
  if (event.type === 'file-done') return { ...event, outputs: portable(event.outputs, outputDir) };
  return event.report ? { ...event, report: portablePath(event.report, outputDir) } : event;
}
