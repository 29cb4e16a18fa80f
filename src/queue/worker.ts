/**
 * A queue worker: takes a pipeline's jobs from Redis and runs each input through the
 * per-file steps (process-file.ts, as an in-process run does), `concurrency` at once.
 *
 * - A job is checked first: made by the same pipeline (its hash), naming a regular file
 *   inside this worker's source folder as producers write paths (roots.ts), under the id
 *   its content gives, with a stem the producer gives that file and no other input holds
 *   (stems.ts). Otherwise it fails at once, is reported to the producers, and is not
 *   recorded in the ledger: the file is not at fault. The file's fingerprint (hash, size,
 *   mtime) is the worker's own reading, never the job's.
 * - A worker writes, removes and records nothing for a job it no longer holds (hold.ts):
 *   frozen past its lock, it leaves the job to the worker that took it over. One job at a
 *   time writes an input's outputs: a newer content's job waits for an older one in flight.
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
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, extname } from 'node:path';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { causes, messageOf } from '../errors.js';
import type { RunEvent } from '../events.js';
import { guardWrites, writeRefusal, type WriteRefused } from '../io/write-guard.js';
import { OutputUnwritable, outputCondition } from '../io/writable.js';
import { hashFile } from '../pipeline/ledger.js';
import { OutputGate } from '../pipeline/output-gate.js';
import { oneLine } from '../pipeline/outcome.js';
import { FilesInFlight, fileHooks, fileSteps } from '../pipeline/process-file.js';
import { loadPipeline, type RunOptions } from '../pipeline/run.js';
import { sourceFolders } from '../pipeline/sources/open.js';
import type { SourceRef } from '../sample.js';
import { connect, ConnectionWatch } from './connection.js';
import { JobHold } from './hold.js';
import { decodeJob, type JobData } from './job.js';
import { jobId } from './job-id.js';
import { keys, PREFIX } from './keys.js';
import { portable, portablePath, removeJobTemporaries } from './outputs.js';
import { RedisLedger } from './redis-ledger.js';
import { relayAdd, type Relayed } from './relay.js';
import { insideRoot } from './roots.js';
import { queueSettings } from './settings.js';
import { StemClaims, stemProblem } from './stems.js';

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
  const watch = new ConnectionWatch(connection, (level, message) => emit({ type: 'log', level, message }));
  const redis = await connect(connection, undefined, watch);
  const ledger = new RedisLedger(redis, queue, images);
  const stems = new StemClaims(redis, queue);
  await stems.seed(() => ledger.list());
  const me = workerName();
  let fault: unknown;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });

  /** Records (when `entry` is given) and reports a job's outcome, only while `hold` is this worker's; `redo: false` for one reported again, not redone. */
  const report = async (job: Job, hold: JobHold, key: string, event: Relayed['event'], entry?: Parameters<RedisLedger['recordKey']>[1], redo = true) => {
    const relayed = { job: job.id!, key, event: portableEvent({ ...event, worker: me }, plan.outputDir) };
    if (entry) await ledger.recordKey(key, entry, relayed, hold);
    else await hold.write([['XADD', ...relayAdd(keys(queue).relay, relayed)]]);
    if (redo) emit({ ...event, worker: me });
    else emit({ type: 'log', level: 'info', file: event.file, message: `${event.file}: already in the ledger (its worker stopped before the queue heard of it): reported again, not redone` });
  };
  /** A job this worker will not run: reported, not recorded, not retried. */
  const refuse = async (job: Job, hold: JobHold, key: string, message: string): Promise<never> => {
    await report(job, hold, key, { type: 'file-failed', id: basename(key, extname(key)), file: key, message });
    throw new UnrecoverableError(message);
  };
  /** Jobs waiting for another job of their file (said once each). */
  const waiting = new Set<string>();
  /** Jobs this worker lost while running them: BullMQ's complaints about their locks go unsaid. */
  const lostJobs = new Set<string>();
  const leave = (job: Job, refusal: WriteRefused): never => {
    lostJobs.add(job.id!);
    emit({ type: 'log', level: 'warn', message: refusal.message });
    throw new UnrecoverableError(refusal.message);
  };

  const processor = async (job: Job, token?: string): Promise<string> => {
    const data = decodeJob(job.data);
    const hold = new JobHold(redis, queue, job, token ?? '', settings.lockMs, typeof data === 'string' ? `job ${job.id}` : data.path);
    try {
      return await run(job, data, hold, token ?? '');
    } catch (error) {
      const refusal = writeRefusal(error);
      if (refusal) return leave(job, refusal);
      throw error;
    } finally {
      await hold.releaseInput();
    }
  };

  /**
   * A job's payload is anyone's who can write to the queue: every field is checked
   * against what this worker sees itself (the file inside its source folder, its content's
   * hash, the id that content gives, the stems the producer gives it), and what the
   * worker writes and records comes from what it verified, never from the payload.
   */
  const run = async (job: Job, data: JobData | string, hold: JobHold, token: string): Promise<string> => {
    if (typeof data === 'string') return refuse(job, hold, '', `job ${job.id}: not a unetflow job (${data})`);
    if (data.pipeline !== settings.pipelineHash) {
      return refuse(
        job,
        hold,
        data.path,
        `${data.path}: not processed: the job was made by a pipeline whose steps differ from this worker's ${plan.file} ` +
          `(pipeline hash ${data.pipeline.slice(0, 12)}, this worker's ${settings.pipelineHash.slice(0, 12)}); give the producer and every worker the same pipeline file`,
      );
    }
    let path: string;
    let labelPath: string | undefined;
    try {
      path = await insideRoot(images, data.path);
      labelPath = data.label !== undefined ? await insideRoot(labels ?? images, data.label) : undefined;
    } catch (error) {
      return refuse(job, hold, data.path, messageOf(error));
    }
    // Producers name a job by its pipeline and content: a job under another id would settle the wait of the job whose id it took.
    if (job.id !== jobId(settings.pipelineHash, data.hash)) {
      return refuse(job, hold, data.path, `${data.path}: refused, job ${job.id} is not the id its pipeline and content hash give (${jobId(settings.pipelineHash, data.hash).slice(0, 12)}…): not a job a producer made`);
    }
    const wrongStem = stemProblem({ path, root: images }, data.stem, data.path);
    if (wrongStem) return refuse(job, hold, data.path, wrongStem);
    const holder = await stems.claim(data.path, data.stem);
    if (holder) {
      return refuse(job, hold, data.path, `${data.path}: refused, its output stem ${JSON.stringify(data.stem)} belongs to ${holder}: its outputs would replace that file's`);
    }
    const ref: SourceRef = { path, root: images, outputStem: data.stem, ...(labelPath ? { labelPath } : {}) };
    // The fingerprint recorded is the file's own, as this worker reads it, not the payload's.
    let before: Stats;
    let hash: string;
    try {
      [before, hash] = [await stat(path), await hashFile(path)];
    } catch (error) {
      return refuse(job, hold, data.path, `${data.path}: not processed, it could not be read (${messageOf(error)})`);
    }
    const fingerprint = { size: before.size, mtimeMs: before.mtimeMs, hash };
    if (hash !== data.hash) {
      emit({ type: 'log', level: 'info', file: ref.path, message: `${data.path}: its content (sha256 ${hash.slice(0, 12)}…) is not the job's (${data.hash.slice(0, 12)}…): it changed since it was enqueued, or the job is not a producer's; processed as it is now, not recorded` });
    }
    const known = await ledger.getKey(data.path);
    if (known && known.hash === hash && !known.sameAs) {
      // Recorded by a worker that died before BullMQ heard of it: reported again, not redone.
      const id = basename(data.path, extname(data.path));
      await report(job, hold, data.path, known.status === 'done'
        ? { type: 'file-done', id, file: ref.path, seconds: 0, outputs: known.outputs }
        : { type: 'file-failed', id, file: ref.path, message: known.error ?? 'failed' }, undefined, false);
      return known.status;
    }
    const busy = await hold.takeInput(data.path);
    if (busy) {
      // An older content's job of this file, on a live worker: it owns the outputs until it is over.
      if (!waiting.has(job.id!)) emit({ type: 'log', level: 'info', file: ref.path, message: `${data.path}: another job of this file (${busy.slice(0, 12)}…, an earlier content) is in flight on another worker: this one waits for it` });
      waiting.add(job.id!);
      await job.moveToDelayed(Date.now() + settings.backoffMs, token);
      throw new DelayedError();
    }
    waiting.delete(job.id!);
    const check = () => hold.confirm();
    for (const path of await guardWrites(check, () => removeJobTemporaries(ref, steps.saveTargets, plan.outputDir))) {
      emit({ type: 'log', level: 'info', file: ref.path, message: `removed ${path}, left by a worker that stopped mid-write` });
    }
    let outcome;
    try {
      outcome = await guardWrites(check, () => inFlight.process(ref, steps));
    } catch (error) {
      if (error instanceof OutputUnwritable) throw error; // see giveBack
      if (writeRefusal(error)) throw error;
      // The pipeline's fault: the job goes back (BullMQ retries it, maybe elsewhere) and this worker stops.
      fault ??= error;
      stop.abort();
      throw error;
    }
    // Lost along the way (a failure the steps reported instead of throwing)? Then nothing of it is recorded or reported.
    const refused = outcome.failed ? outcome.failures.map(writeRefusal).find(Boolean) : undefined;
    if (refused) throw refused;
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (outcome.failed && !last && outcome.failures.some(isTransient)) {
      throw new Error(`${outcome.event.message} (transient: attempt ${job.attemptsMade + 1} of ${job.opts.attempts}, retried)`, { cause: outcome.failures[0] });
    }
    // Written to since it was enqueued, or while it was read? Then it is not recorded: its new content gets a job of its own.
    // Gone while read (vanished.ts): told, but not recorded, so that it is taken again when it comes back.
    const now = await stat(ref.path).catch(() => undefined);
    const vanished = outcome.failed && outcome.vanished;
    const unchanged = !vanished && hash === data.hash && now && now.size === before.size && now.mtimeMs === before.mtimeMs;
    const entry = outcome.failed
      ? { ...fingerprint, status: 'failed' as const, outputs: {}, stem: data.stem, error: oneLine(outcome.failures[0].message) }
      : { ...fingerprint, status: 'done' as const, outputs: portable(outcome.event.outputs, plan.outputDir), stem: data.stem };
    await report(job, hold, data.path, outcome.event, unchanged ? entry : undefined);
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

  const worker = new Worker(queue, (job, token) => processor(job, token).catch((error: unknown) => onCondition(job, token, error)), {
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
    if (watch.heard(error)) return; // a lost connection: said once by the watch, with its return
    // Anything else is said once: it may repeat many times a second.
    const message = connection.redact(messageOf(error));
    // A lost lock is said once, in words, by `leave`, when the job next tries to write.
    if (/(could not renew lock|Missing lock) for job/.test(message) || [...lostJobs].some((id) => message.includes(id))) return;
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
