/** The operators every pipeline file can name, and the default registry holding them. */
import type * as t from 'io-ts';
import type { OperatorFunction } from 'rxjs';
import { ElasticParams, elastic } from '../../operators/elastic.js';
import { EvaluateParams, evaluate } from '../../operators/evaluate.js';
import { InstancesParams, instances } from '../../operators/instances.js';
import { LoadParams, load } from '../../operators/load.js';
import { MirrorParams, mirror } from '../../operators/mirror.js';
import { RandomTilesParams, randomTiles } from '../../operators/random-tiles.js';
import { SaveParams, save } from '../../operators/save.js';
import { SplitParams, split } from '../../operators/split.js';
import { StitchParams, stitch } from '../../operators/stitch.js';
import type { StepContext } from '../../operators/step.js';
import { ThresholdParams, threshold } from '../../operators/threshold.js';
import { TileParams, tile } from '../../operators/tile.js';
import { TrainParams, checkTrain, train } from '../../operators/train.js';
import { UnetParams, checkUnet, unet } from '../../operators/unet.js';
import { WatershedParams, watershed } from '../../operators/watershed.js';
import { WeightMapParams, weightMap } from '../../operators/weight-map.js';
import { defineOperator, OperatorRegistry, type OperatorDefinition, type OperatorOptions } from './registry.js';

export const builtinOperators: OperatorDefinition[] = [
  defineOperator('load', LoadParams, load),
  defineOperator('split', SplitParams, split),
  defineOperator('elastic', ElasticParams, elastic),
  defineOperator('weight-map', WeightMapParams, weightMap),
  defineOperator('mirror', MirrorParams, mirror),
  defineOperator('tile', TileParams, tile),
  defineOperator('random-tiles', RandomTilesParams, randomTiles),
  defineOperator('unet', UnetParams, unet, { check: checkUnet }),
  defineOperator('stitch', StitchParams, stitch),
  defineOperator('threshold', ThresholdParams, threshold),
  defineOperator('watershed', WatershedParams, watershed),
  defineOperator('instances', InstancesParams, instances),
  defineOperator('evaluate', EvaluateParams, evaluate),
  // Training batches tiles across files and checkpoints when the whole input is done; it
  // passes each tile on after its step, so the run reads ahead only a few batches.
  defineOperator('train', TrainParams, train, { check: checkTrain, scope: 'stream', window: (p) => Math.max(16, 4 * (p.batchSize ?? 1)) }),
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
  create: (params: P, ctx: StepContext) => OperatorFunction<any, any>,
  options: OperatorOptions<P> = {},
): OperatorDefinition<P> {
  const definition = defineOperator(name, params, create, options);
  defaultRegistry.register(definition);
  return definition;
}
