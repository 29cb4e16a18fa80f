/**
 * Operators by name, as pipeline files refer to them. Built-in operators and custom
 * ones (from code, or from a module named by `use:`) are registered the same way.
 */
import type * as t from 'io-ts';
import type { OperatorFunction } from 'rxjs';
import { didYouMean } from '../codec/building-blocks.js';
import type { StepContext } from '../../operators/step.js';

export interface OperatorDefinition<P = any> {
  /** The key used in pipeline files, e.g. `weight-map`. */
  readonly name: string;
  /** Validates the step's parameters; its messages appear with the file's line numbers. */
  readonly params: t.Type<P, any, unknown>;
  /**
   * `sample` (default): runs on each input file's samples separately, so a file is done,
   * or failed, on its own. `stream`: sees the whole stream (training, summaries); every
   * step after it does too.
   */
  readonly scope?: 'sample' | 'stream';
  /**
   * For a stream-scoped step that passes each sample on once it is done with it: the
   * most samples the run lets wait for it. RxJS has no backpressure, so without this
   * the files before a slow step (training) would be read far ahead and pile up in memory.
   */
  readonly window?: (params: P) => number;
  /**
   * What can be checked before any file is taken, beyond the parameters' codec: folders
   * and models the step names. `validate` and run start-up call it; a throw is a problem
   * of the pipeline (reported at the step, exit 2), never a failure of an input file.
   */
  readonly check?: (params: P, ctx: StepContext) => Promise<void>;
  readonly create: (params: P, ctx: StepContext) => OperatorFunction<any, any>;
}

export interface OperatorOptions<P> {
  readonly scope?: 'sample' | 'stream';
  readonly window?: (params: P) => number;
  readonly check?: (params: P, ctx: StepContext) => Promise<void>;
}

export function defineOperator<P>(
  name: string,
  params: t.Type<P, any, unknown>,
  create: (params: P, ctx: StepContext) => OperatorFunction<any, any>,
  options: OperatorOptions<P> = {},
): OperatorDefinition<P> {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new TypeError(`operator name '${name}' must be lower-case words joined by '-'`);
  return { name, params, create, scope: options.scope ?? 'sample', ...(options.window ? { window: options.window } : {}), ...(options.check ? { check: options.check } : {}) };
}

export class OperatorRegistry {
  private readonly byName = new Map<string, OperatorDefinition>();

  constructor(definitions: readonly OperatorDefinition[] = []) {
    for (const d of definitions) this.register(d);
  }

  register(definition: OperatorDefinition): this {
    this.byName.set(definition.name, definition);
    return this;
  }

  get(name: string): OperatorDefinition | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** A message for an unknown name, with the closest known one. */
  unknown(name: string): string {
    const guess = didYouMean(name, this.names());
    return `unknown operator '${name}'` + (guess ? ` — did you mean '${guess}'?` : ` (known: ${this.names().join(', ')})`);
  }

  /** A copy to which a run can add its own `use:` operators without touching this one. */
  clone(): OperatorRegistry {
    return new OperatorRegistry([...this.byName.values()]);
  }
}
