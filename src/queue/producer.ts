/**
 * The producer of a queue run (`unetflow run PIPELINE --queue URL`): the run loop
 * (src/pipeline/loop.ts) with the queue as its sink, which turns each input the ledger
 * says needs doing into a job (paths and hashes, no pixels) and settles it when a worker
 * reports. It streams the same events as an in-process run: `started`, every worker's
 * `file-done` / `file-failed` (with `worker`), and `stats` once every job it enqueued is
 * over; a watch source runs until stopped.
 *
 * Exactly once: the Redis ledger decides what needs doing (done, failed before and
 * unchanged, the same content under another name), and a job's id is the pipeline's
 * hash with the content's, so a second producer's copy of a job is the same job. The
 * relay's position is taken before the ledger is read, so no report can fall between.
 */
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import type { Observable } from 'rxjs';
import { messageOf } from '../errors.js';
import type { RunEvent } from '../events.js';
import type { Fingerprint } from '../pipeline/ledger.js';
import { RunLoop, type FileSink } from '../pipeline/loop.js';
import { readPipelineFile } from '../pipeline/document.js';
import { loadPipeline, type RunOptions } from '../pipeline/run.js';
import { runSession } from '../pipeline/session.js';
import { openSource, sourceFolders } from '../pipeline/sources/open.js';
import type { SourceRef } from '../sample.js';
import { connect, ConnectionWatch } from './connection.js';
import type { JobData } from './job.js';
import { jobId } from './job-id.js';
import { PREFIX } from './keys.js';
import { localPath, localPaths } from './outputs.js';
import { RedisLedger } from './redis-ledger.js';
import { RelayReader, type Relayed } from './relay.js';
import { keyOf } from './roots.js';
import { queueSettings } from './settings.js';

export interface ProducerOptions extends RunOptions {
  /** The queue's URL; @default the pipeline's `queue:` section's */
  readonly queue?: string;
}

interface Pending {
  readonly refs: { ref: SourceRef; key: string; fingerprint: Fingerprint }[];
  /** Seen missing from the queue at the last look (see `reconcile`). */
  missing: boolean;
}

/** How often jobs gone from the queue without a report are looked for, ms. */
const RECONCILE_MS = 3000;

export function runProducer(file: string, options: ProducerOptions = {}): Observable<RunEvent> {
  return runSession(options.signal, async (session) => {
    const { emit, signal } = session;
    const loop = new RunLoop(emit, signal);
    const plan = await loadPipeline(file, options, { emit, signal });
    const settings = queueSettings(plan, options.queue);
    const { connection, queue: name } = settings;
    const watch = new ConnectionWatch(connection, (level, message) => emit({ type: 'log', level, message }));
    const redis = await connect(connection, undefined, watch);
    session.onEnd(() => redis.disconnect());
    const blocking = redis.duplicate();
    session.onEnd(() => blocking.disconnect());
    const queue = new Queue(name, { connection: connection.options, prefix: PREFIX });
    session.onEnd(() => queue.close());
    queue.on('error', (error) => watch.heard(error) || emit({ type: 'log', level: 'warn', message: `queue: ${connection.redact(messageOf(error))}` }));
    // Before the ledger is read: a job not in the ledger then reports after this point.
    const reader = await RelayReader.open(blocking, name);
    const source = await openSource(plan, signal, emit);
    const [, labels] = sourceFolders(plan).map((f) => f.query.dir);
    const ledger = new RedisLedger(redis, name, source.root);
    const entries = await ledger.list();
    for (const note of plan.notes ?? []) if (!note.validateOnly) emit({ type: 'log', level: 'info', message: note.message });
    emit({ type: 'started', pipeline: plan.definition.name, file: plan.file, time: new Date().toISOString(), watch: source.watch, ...(source.total !== undefined ? { total: source.total } : {}) });
    session.stats = () => loop.stats();
    emit({ type: 'log', level: 'info', message: `enqueuing on ${name} at ${connection.display}: workers (unetflow worker ${plan.file} --queue …) do the work` });

    const pending = new Map<string, Pending>();
    let listed = false;

    /** What a worker reported: told for each path whose content the job was. */
    const settle = async (r: Relayed) => {
      const job = pending.get(r.job);
      if (!job) return; // another producer's job, or one reported twice (a worker died after reporting)
      pending.delete(r.job);
      for (const { ref, key, fingerprint } of job.refs) {
        if (key !== r.key && r.event.type === 'file-done') {
          // Another path with this content was the job's: this one is recorded as the same content.
          const original = await ledger.getKey(r.key);
          if (original) {
            await ledger.recordSameContent(ref.path, fingerprint, original);
            loop.settle(ref, { type: 'same-content', original: resolve(source.root, r.key), how: 'done by a worker: not processed again' });
            continue;
          }
        }
        loop.settle(ref, r.event.type === 'file-done'
          ? { type: 'done', event: { ...r.event, file: ref.path, outputs: localPaths(r.event.outputs, plan.outputDir) } }
          : { type: 'failed', event: { ...r.event, file: ref.path, ...(r.event.report ? { report: localPath(r.event.report, plan.outputDir) } : {}) } });
      }
    };

    /**
     * A job can leave the queue without a report: BullMQ fails one whose workers died
     * more than maxStalled times. Reports are written before a job leaves, so a job
     * still unreported one look after it was seen missing had none: the ledger, else a failure, says what became of it.
     */
    const reconcile = async () => {
      const looked = [...pending];
      // All at once: ioredis writes concurrent commands without waiting for each reply, so a backlog of thousands costs a few round trips, not thousands.
      const gone = await Promise.all(looked.map(async ([id]) => {
        const queued = await queue.getJob(id);
        return !queued || (await queued.isFailed());
      }));
      for (const [i, [id, job]] of looked.entries()) {
        if (!gone[i]) {
          job.missing = false;
          continue;
        }
        if (!job.missing) {
          job.missing = true;
          continue;
        }
        const [{ key, fingerprint }] = job.refs;
        const entry = await ledger.getKey(key);
        const event: Relayed['event'] =
          entry && entry.hash === fingerprint.hash
            ? entry.status === 'done'
              ? { type: 'file-done', id: key, file: key, seconds: 0, outputs: entry.outputs }
              : { type: 'file-failed', id: key, file: key, message: entry.error ?? 'failed' }
            : { type: 'file-failed', id: key, file: key, message: `${key}: its job left the queue without a result (its workers stopped more than maxStalled times, or it was removed); not recorded, so the next run takes it again` };
        await settle({ job: id, key, event });
      }
    };

    // The workers' reports, until every job enqueued is over (or the run is stopped).
    const reading = (async () => {
      let lastLook = Date.now();
      while (!signal.aborted && !(listed && pending.size === 0)) {
        for (const r of await reader.next(1000)) await settle(r);
        if (Date.now() - lastLook > RECONCILE_MS) {
          lastLook = Date.now();
          await reconcile();
        }
      }
    })();

    /** The queue as the loop's sink: a file is taken once its job is enqueued; its outcome comes with the worker's report. */
    const sink: FileSink = {
      concurrency: 8,
      take: async (ref, fingerprint) => {
        const key = ledger.key(ref.path);
        const id = jobId(settings.pipelineHash, fingerprint!.hash!);
        const known = pending.get(id);
        if (known) return void known.refs.push({ ref, key, fingerprint: fingerprint! }); // the same content twice in this run: one job
        pending.set(id, { refs: [{ ref, key, fingerprint: fingerprint! }], missing: false });
        const data: JobData = {
          pipeline: settings.pipelineHash,
          path: key,
          hash: fingerprint!.hash!,
          size: fingerprint!.size,
          mtimeMs: fingerprint!.mtimeMs,
          stem: ref.outputStem!,
          ...(ref.labelPath && labels ? { label: keyOf(labels, ref.labelPath) } : {}),
        };
        // An id already in the queue (another producer's, or this one's before a restart) adds nothing.
        await queue.add('file', data, {
          jobId: id,
          attempts: settings.attempts,
          backoff: { type: 'exponential', delay: settings.backoffMs },
          removeOnComplete: true,
          removeOnFail: true,
        });
        return undefined;
      },
      drain: () => {
        listed = true;
        if (pending.size) emit({ type: 'log', level: 'info', message: `${pending.size} job(s) enqueued; waiting for the workers` });
        return reading;
      },
    };

    const listing = new Promise<void>((done, fail) => {
      const subscription = loop.run(source.refs, sink, { ledger, entries, watch: source.watch, outputDirs: [] }).subscribe({ error: fail, complete: done });
      session.onEnd(() => subscription.unsubscribe());
    });
    await Promise.all([listing, reading]);
    if (signal.aborted && pending.size) {
      emit({ type: 'log', level: 'info', message: `${pending.size} file(s) left in the queue: the workers go on with them; run again to see them through` });
    }
  });
}

/** Whether `unetflow run` enqueues: --queue given, or a `queue:` section in the file (read, not yet checked). */
export async function wantsQueue(file: string, options: { queue?: string; set?: readonly string[] }): Promise<boolean> {
  if (options.queue) return true;
  const { document } = await readPipelineFile(file, { set: options.set ?? [] });
  return (document?.value as { queue?: unknown } | undefined)?.queue !== undefined;
}
