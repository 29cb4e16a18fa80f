/**
 * What a pipeline compiles to: its steps, each with its operator created, and what the
 * run needs besides. Shared by the compiler that makes plans, the start-up checks and
 * the sources that read them, and the run that carries them out.
 */
import type { OperatorFunction } from 'rxjs';
import type { StepContext } from '../../operators/step.js';
import type { PipelineDefinition } from './definition.js';

export interface PlannedStep {
  readonly index: number;
  readonly name: string;
  /** `steps[2].tile` — how messages name the step. */
  readonly label: string;
  readonly scope: 'sample' | 'stream';
  readonly operator: OperatorFunction<any, any>;
  readonly params: unknown;
  /** See OperatorDefinition.window. */
  readonly window?: number;
  /** See OperatorDefinition.check, bound to this step's parameters and context. */
  readonly check?: () => Promise<void>;
}

export interface Plan {
  readonly file: string;
  readonly baseDir: string;
  readonly definition: PipelineDefinition;
  readonly steps: readonly PlannedStep[];
  /** Folder of the first `save` step, where ledgers and error reports go. */
  readonly outputDir?: string;
  /** What loading found worth saying, not wrong (see checks.ts); a run reports them as `log` events. */
  readonly notes?: readonly Note[];
}

/** Worth saying, not wrong: e.g. a watch folder that does not exist yet. */
export interface Note {
  readonly message: string;
  /** Said by `validate` only: a run says it itself when it happens (the watch source waits for its folder). */
  readonly validateOnly?: boolean;
}

/** Run-time hooks and run-wide settings given to every operator's context. */
export type RunHooks = Pick<StepContext, 'onSampleError' | 'emit' | 'backend' | 'workers' | 'signal' | 'models' | 'images' | 'outputs' | 'engine'>;
