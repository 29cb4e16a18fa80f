/**
 * The operators a page knows: the CLI's own (the same names, codecs and checks, so a
 * pipeline file validates with the same messages), with those that cannot run in a page
 * refusing when the pipeline compiles, saying so at their step.
 */
import { ConfigError } from '../../errors.js';
import { builtinOperators } from '../../pipeline/builtins.js';
import { OperatorRegistry, type OperatorDefinition } from '../../pipeline/registry.js';

/** Why a step cannot run in a page, by operator name. */
export const NOT_IN_A_PAGE: Readonly<Record<string, string>> = {
  train: 'training runs in the CLI only (unetflow run), not in a page: train there, then segment here with the model it writes',
};

export function pageRegistry(): OperatorRegistry {
  return new OperatorRegistry(builtinOperators.map((d): OperatorDefinition => {
    const why = NOT_IN_A_PAGE[d.name];
    if (!why) return d;
    return { ...d, create: () => { throw new ConfigError(`${d.name}: ${why}`); }, check: undefined };
  }));
}
