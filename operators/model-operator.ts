import { defer, finalize, from, mergeMap, type Observable, type OperatorFunction } from 'rxjs';
import { ConfigError, SampleError, messageOf } from '../src/errors.js';
import { makeImage } from '../src/image/image.js';
import type { BackendInfo } from '../src/model/engines/engine.js';
import { backendEvent } from '../src/model/engines/report.js';
import type { TileBatcher } from '../src/model/inference/batcher.js';
import { Shared } from '../src/model/inference/shared.js';
import type { Sample } from '../src/sample.js';
import { releaseTile } from '../src/tile-budget.js';
import type { SampleOperator, StepContext } from './step.js';

/** What opening a model gives, beside what the operator runs with. */
export interface Opened {
  /** Where it runs, and on how many threads: the `backend` event's content. */
  readonly backend: BackendInfo;
  readonly workers: number;
  /** Said after the model's path in the log line, e.g. ` (bioimage.io package 'x')`. */
  readonly note?: string;
}

/**
 * An operator over a model that every stream through it shares (src/model/inference/shared.ts):
 * opened by the first stream, closed `keepSeconds` after the last ends. The `backend`
 * event and the model's log line come once per operator instance, however often the
 * model is reopened after idle periods. A model or backend that will not load is the
 * pipeline's fault, not the input's: a ConfigError naming `step` and `model` ends the
 * run (exit 2) without recording any file as failed.
 */
export function modelOperator<T extends Opened>(
  step: string,
  ctx: StepContext,
  model: string,
  open: () => Promise<T>,
  close: (loaded: T) => void | Promise<void>,
  keepSeconds: number,
  run: (source: Observable<Sample>, loaded: T) => Observable<Sample>,
): SampleOperator {
  let announced = false;
  const shared = new Shared<T>(
    () =>
      open().then(
        (opened) => {
          if (!announced) {
            announced = true;
            ctx.emit?.(backendEvent(step, opened.backend, opened.workers));
            ctx.emit?.({ type: 'log', level: 'info', message: `${step}: model ${model}${opened.note ?? ''}` });
          }
          return opened;
        },
        (error: unknown) => {
          throw new ConfigError(`${step}: cannot run the model ${model}: ${messageOf(error)}`, { cause: error });
        },
      ),
    close,
    keepSeconds * 1000,
  );
  return (source) =>
    defer(() => shared.acquire()).pipe(
      mergeMap((loaded) => run(source, loaded)),
      finalize(() => shared.release()),
    );
}

/** A tile checked and ready for the batcher: its input, made when its pass starts, and its output size. */
export interface BatcherTile {
  readonly sample: Sample;
  readonly input: () => Float32Array;
  readonly size: number;
  readonly output: number;
}

/**
 * Every tile through the operator's one batcher (src/model/inference/batcher.ts), which
 * puts tiles of this and other files in one pass, back as its sample with
 * `probabilities` (`output` px a side, one channel per class). A tile whose pass fails
 * is reported alone (or errors the stream) and gives its permit back to `tile`.
 */
export function throughBatcher(step: string, ctx: StepContext, batcher: TileBatcher): OperatorFunction<BatcherTile, Sample> {
  return (source) =>
    source.pipe(
      mergeMap(async ({ sample, input, size, output }) => {
        try {
          const p = await batcher.submit({ input, size, image: sample.source.path, owner: sample });
          return [{ ...sample, probabilities: makeImage(output, output, p.length / (output * output), 'float32', p) }];
        } catch (error) {
          releaseTile(sample);
          const wrapped = SampleError.wrap({ step, file: sample.source.path, sample: sample.id }, error);
          if (!ctx.onSampleError) throw wrapped;
          ctx.onSampleError(wrapped);
          return [];
        }
      }),
      mergeMap((samples) => from(samples)),
    );
}
