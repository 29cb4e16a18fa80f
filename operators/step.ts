/**
 * What every operator shares: eager parameter validation, and per-sample error
 * handling that names the step and file and lets the stream go on.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { EMPTY, catchError, defer, mergeMap, throwError, type ObservableInput, type OperatorFunction } from 'rxjs';
import { ConfigError, SampleError } from '../src/errors.js';
import { formatIssues, toIssues } from '../src/codec/report.js';
import type { RunEvent } from '../src/events.js';
import type { InferenceBackendChoice } from '../src/model/engines/engine.js';
import type { ModelCatalog } from '../src/host/model-files.js';
import type { ImageReader } from '../src/host/images.js';
import type { OutputWriter } from '../src/host/outputs.js';
import type { EngineHost } from '../src/host/engine.js';
import type { Sample } from '../src/sample.js';
import { releaseTile } from '../src/tile-budget.js';

/** How an operator is placed in a run. All fields are optional for use from code. */
export interface StepContext {
  /** Name in messages, e.g. `steps[2].tile`. @default the operator's name */
  readonly step?: string;
  /**
   * Receives samples that failed at this step, which are then dropped so the stream
   * goes on. Without it, a failure errors the stream (plain RxJS semantics).
   */
  readonly onSampleError?: (error: SampleError) => void;
  /** This step's seed, derived from the pipeline seed and the step's position. @default 0 */
  readonly seed?: number;
  /** Folder that relative paths in parameters resolve against. @default process.cwd() */
  readonly baseDir?: string;
  /** Receives progress events (training steps, checkpoints, ...). */
  readonly emit?: (event: RunEvent) => void;
  /**
   * Run-wide backend for model steps (`unetflow run --backend`); a step's own `backend`
   * wins. Training steps given `onnxruntime` take tfjs's `auto` (engines/choice.ts).
   */
  readonly backend?: InferenceBackendChoice;
  /** Run-wide worker threads for model steps (`unetflow run --workers`); a step's own `workers` wins. */
  readonly workers?: number;
  /** Aborted when the run is asked to stop (Ctrl-C): steps that can end early, like `train`, do. */
  readonly signal?: AbortSignal;
  /** What steps read of model folders while the pipeline is compiled (src/host/model-files.ts). @default the folders on disk */
  readonly models?: ModelCatalog;
  /** What `load` decodes files with (src/host/images.ts). @default sharp, on disk */
  readonly images?: ImageReader;
  /** Where `save` encodes and writes (src/host/outputs.ts). @default sharp, on disk */
  readonly outputs?: OutputWriter;
  /** What `unet` opens its model with (src/host/engine.ts). @default the engine engines/choice.ts picks, the folder on disk */
  readonly engine?: EngineHost;
}

/** Validates parameters when the operator is created; throws a ConfigError listing every problem. */
export function decodeParams<C extends t.Any>(operator: string, codec: C, params: unknown): t.TypeOf<C> {
  const result = codec.decode(params ?? {});
  if (isLeft(result)) {
    throw new ConfigError(`${operator}: invalid parameters\n${formatIssues(toIssues(result.left))}`);
  }
  return result.right;
}

/** Names the input of a failing step, whether it is a Sample, a SourceRef or a path. */
function where(item: unknown, step: string) {
  if (typeof item === 'string') return { step, file: item };
  const s = item as { id?: string; source?: { path: string }; path?: string };
  return { step, file: s.source?.path ?? s.path, sample: s.id };
}

/**
 * Runs `fn` on each item, at most `concurrency` at once, turning a throw into a
 * SampleError that is reported through the context (or errors the stream).
 */
export function perSample<A, B>(
  name: string,
  ctx: StepContext,
  fn: (item: A) => B | Promise<B>,
  concurrency = 1,
): OperatorFunction<A, B> {
  return flatPerSample(name, ctx, (item: A) => Promise.resolve().then(() => fn(item)), concurrency);
}

/** Like perSample, for steps that turn one item into several (pages, tiles). */
export function flatPerSample<A, B>(
  name: string,
  ctx: StepContext,
  fn: (item: A) => ObservableInput<B>,
  concurrency = 1,
): OperatorFunction<A, B> {
  const step = ctx.step ?? name;
  return mergeMap(
    (item: A) =>
      // defer: a throw in fn, or while iterating its result (a lazy tile generator), is caught below.
      defer(() => fn(item)).pipe(
        catchError((error: unknown) => {
          releaseTile(item); // a dropped tile never reaches stitch: tile must not wait for it
          const wrapped = SampleError.wrap(where(item, step), error);
          if (!ctx.onSampleError) return throwError(() => wrapped);
          ctx.onSampleError(wrapped);
          return EMPTY;
        }),
      ),
    concurrency,
  );
}

export type SampleOperator = OperatorFunction<Sample, Sample>;
