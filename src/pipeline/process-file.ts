/**
 * One input file through the per-sample steps, as a whole: its outputs and `file-done`,
 * or its failure report and `file-failed` (outcome.ts). Shared by the in-process run
 * (run.ts) and the queue worker (src/queue/worker.ts), which differ only in what they
 * do around it: ledgers, counts, where the event goes.
 */
import { basename, extname, resolve } from 'node:path';
import { lastValueFrom, of, tap, type Observable, type OperatorFunction } from 'rxjs';
import { SampleError, isPipelineFault } from '../errors.js';
import type { RunEvent } from '../events.js';
import { meanMetrics, type SegmentationMetrics } from '../kernels/metrics/segmentation.js';
import type { Sample, SourceRef } from '../sample.js';
import type { InferenceBackendChoice } from '../model/engines/choice.js';
import type { Plan, RunHooks } from './plan.js';
import { outputCondition } from '../io/writable.js';
import { clearFailure, oneLine, recordFailure, type SaveTarget } from './outcome.js';
import { inputVanished, removeWritten } from './vanished.js';

/** What every file of a plan goes through; build it once with `fileSteps`. */
export interface FileSteps {
  readonly perFile: readonly OperatorFunction<any, any>[];
  readonly saveTargets: readonly SaveTarget[];
  readonly outputDir?: string;
  /** Every folder the steps write to: a write refused there for the folder's sake (a full disk) is the run's condition, not the file's. */
  readonly outputDirs: readonly string[];
  /** Keep the samples for stream-scoped steps (training); otherwise a 500-page stack is not held whole. */
  readonly keepSamples: boolean;
}

export function fileSteps(plan: Plan): FileSteps {
  const saveTargets = plan.steps.filter((s) => s.name === 'save').map((s) => {
    const p = s.params as { dir: string; outputs: string[] };
    return { dir: resolve(plan.baseDir, p.dir), outputs: p.outputs };
  });
  return {
    perFile: plan.steps.filter((s) => s.scope === 'sample').map((s) => s.operator),
    saveTargets,
    ...(plan.outputDir ? { outputDir: plan.outputDir } : {}),
    outputDirs: [...new Set([...(plan.outputDir ? [plan.outputDir] : []), ...saveTargets.map((t) => t.dir)])],
    keepSamples: plan.steps.some((s) => s.scope === 'stream'),
  };
}

/**
 * The hooks a plan runs files with, for a run and a queue worker alike: events, the stop
 * signal, backend and workers for model steps that name none, and each dropped sample
 * filed to its input in flight (`others` gets one whose input is not: a stream-scoped step's).
 */
export function fileHooks(
  files: FilesInFlight,
  o: { readonly emit: (e: RunEvent) => void; readonly signal: AbortSignal; readonly backend?: InferenceBackendChoice; readonly workers?: number },
  others: (error: SampleError) => void,
): RunHooks {
  return {
    emit: o.emit,
    signal: o.signal,
    ...(o.backend ? { backend: o.backend } : {}),
    ...(o.workers ? { workers: o.workers } : {}),
    onSampleError: (error) => {
      if (!files.report(error)) others(error);
    },
  };
}

export type FileOutcome =
  | { readonly failed: false; readonly event: Extract<RunEvent, { type: 'file-done' }>; readonly kept: Sample[]; readonly metrics?: SegmentationMetrics }
  | { readonly failed: true; readonly event: Extract<RunEvent, { type: 'file-failed' }>; readonly failures: readonly SampleError[]; readonly vanished?: true };

/**
 * Failures of the files in flight, by input path: steps report a dropped sample through
 * the run's `onSampleError` hook, which calls `report`, and the file's outcome gathers them.
 */
export class FilesInFlight {
  private readonly failures = new Map<string, SampleError[]>();

  /** Files a sample's error to its input; false when that input is not in flight (a stream-scoped step's sample). */
  report(error: SampleError): boolean {
    const list = this.failures.get(error.file ?? '');
    if (!list) return false;
    list.push(error);
    return true;
  }

  /**
   * Runs `ref` through the steps. Throws the pipeline's fault (a model that will not
   * load) and the run's condition (OutputUnwritable: a full disk, a read-only or gone
   * output folder), for which the file is not blamed and nothing of it is recorded; any
   * other failure is the file's outcome.
   */
  async process(ref: SourceRef, steps: FileSteps): Promise<FileOutcome> {
    const t0 = Date.now();
    const failures: SampleError[] = [];
    this.failures.set(ref.path, failures);
    const kept: Sample[] = [];
    const written: { id: string; outputs: Record<string, string> }[] = [];
    const scores: SegmentationMetrics[] = [];
    let objects: number | undefined;
    try {
      await lastValueFrom(
        steps.perFile.reduce<Observable<any>>((o, op) => o.pipe(op), of(ref)).pipe(
          tap((s: Sample) => {
            written.push({ id: s.id, outputs: (s.metadata?.outputs ?? {}) as Record<string, string> });
            if (s.metadata?.metrics) scores.push(s.metadata.metrics as SegmentationMetrics);
            if (typeof s.metadata?.objects === 'number') objects = (objects ?? 0) + s.metadata.objects;
            if (steps.keepSamples) kept.push(s);
          }),
        ),
        { defaultValue: undefined },
      );
    } catch (error) {
      failures.push(SampleError.wrap({ file: ref.path }, error));
    } finally {
      this.failures.delete(ref.path);
    }
    const id = basename(ref.path, extname(ref.path));
    // The pipeline's fault (a model that will not load) is not the file's: the caller decides (a run ends, a worker gives the job back).
    const fault = failures.find(isPipelineFault);
    if (fault) throw fault;
    for (const failure of failures) {
      const condition = await outputCondition(failure, steps.outputDirs);
      if (condition) throw condition;
    }
    // Its report or its clean-up refused for the disk's sake: the run's condition too.
    const asCondition = async (error: unknown) => {
      throw (await outputCondition(error, steps.outputDirs)) ?? error;
    };
    // Gone while read: nobody's failure, so no report; only what this attempt wrote goes (vanished.ts).
    if (failures.length && (await inputVanished(ref, failures))) {
      await removeWritten(written.flatMap((w) => Object.values(w.outputs)));
      return { failed: true, vanished: true, event: { type: 'file-failed', id, file: ref.path, message: oneLine(failures[0].message) }, failures };
    }
    if (failures.length) return { failed: true, event: await recordFailure(ref, id, failures, steps.saveTargets, steps.outputDir).catch(asCondition), failures };
    await clearFailure(ref, steps.outputDir).catch(asCondition);
    const metrics = scores.length ? meanMetrics(scores) : undefined;
    const outputs = collectOutputs(written);
    return { failed: false, event: { type: 'file-done', id, file: ref.path, seconds: (Date.now() - t0) / 1000, outputs, ...(metrics ? { metrics } : {}), ...(objects !== undefined ? { objects } : {}) }, kept, ...(metrics ? { metrics } : {}) };
  }
}

/** Output paths of a file's samples: by output name, prefixed by the sample id when a file gave several. */
function collectOutputs(samples: readonly { id: string; outputs: Record<string, string> }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of samples) {
    for (const [name, path] of Object.entries(s.outputs)) out[samples.length > 1 ? `${s.id}.${name}` : name] = path;
  }
  return out;
}
