/** The operators every pipeline file can name, and the default registry holding them. */
import { LoadParams, load } from '../../operators/load.js';
import { MirrorParams, mirror } from '../../operators/mirror.js';
import { SaveParams, save } from '../../operators/save.js';
import { StitchParams, stitch } from '../../operators/stitch.js';
import { TileParams, tile } from '../../operators/tile.js';
import { defineOperator, OperatorRegistry, type OperatorDefinition } from './registry.js';
import type * as t from 'io-ts';
import type { StepContext } from '../../operators/step.js';

export const builtinOperators: OperatorDefinition[] = [
  defineOperator('load', LoadParams, load),
  defineOperator('mirror', MirrorParams, mirror),
  defineOperator('tile', TileParams, tile),
  defineOperator('stitch', StitchParams, stitch),
  defineOperator('save', SaveParams, save),
];

/** The registry runs use unless given another; `registerOperator` adds to it. */
export const defaultRegistry = new OperatorRegistry(builtinOperators);

/**
 * Makes a custom operator available to pipeline files by name.
 *
 * @example
 * registerOperator('invert', t.type({}), () => map((s) => ({ ...s, image: invert(s.image) })));
 */
export function registerOperator<P>(
  name: string,
  params: t.Type<P, any, unknown>,
  create: (params: P, ctx: StepContext) => import('rxjs').OperatorFunction<any, any>,
  options: { scope?: 'sample' | 'stream' } = {},
): OperatorDefinition<P> {
  const definition = defineOperator(name, params, create, options);
  defaultRegistry.register(definition);
  return definition;
}
