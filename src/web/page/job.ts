/// <reference lib="dom" />
/**
 * What the page asks of the runner (src/web/runner.ts, which does the work in a Web
 * Worker): validate a pipeline text as `unetflow validate` does, and run it on two
 * folders, giving the run's events (docs/events.md) as they come.
 */
import type { RunEvent } from '../../events.js';
import type { EngineChoice, PipelineText, Validation } from '../runner.js';

export type { EngineChoice, PipelineText, Validation };

export interface JobRequest {
  readonly pipeline: PipelineText;
  readonly input: FileSystemDirectoryHandle;
  readonly output: FileSystemDirectoryHandle;
  readonly engine: EngineChoice;
  readonly signal: AbortSignal;
}

export interface JobRunner {
  validate(pipeline: PipelineText): Promise<Validation>;
  /** Resolves when the run has ended (its last event was `stats` or `run-failed`). */
  run(request: JobRequest, onEvent: (e: RunEvent) => void): Promise<void>;
}
