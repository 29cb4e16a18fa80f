import { defer, finalize, mergeMap, type Observable } from 'rxjs';
import { ConfigError, messageOf } from '../src/errors.js';
import { Shared } from '../src/model/inference/shared.js';
import type { Sample } from '../src/sample.js';
import type { SampleOperator } from './step.js';

/**
 * An operator over a model that every stream through it shares (src/model/inference/shared.ts):
 * opened by the first stream, closed `keepSeconds` after the last ends. A model or
 * backend that will not load is the pipeline's fault, not the input's: a ConfigError
 * naming `step` and `model` ends the run (exit 2) without recording any file as failed.
 */
export function modelOperator<T>(
  step: string,
  model: string,
  open: () => Promise<T>,
  close: (loaded: T) => void | Promise<void>,
  keepSeconds: number,
  run: (source: Observable<Sample>, loaded: T) => Observable<Sample>,
): SampleOperator {
  const shared = new Shared<T>(
    () => open().catch((error: unknown) => {
      throw new ConfigError(`${step}: cannot run the model ${model}: ${messageOf(error)}`, { cause: error });
    }),
    close,
    keepSeconds * 1000,
  );
  return (source) =>
    defer(() => shared.acquire()).pipe(
      mergeMap((loaded) => run(source, loaded)),
      finalize(() => shared.release()),
    );
}
