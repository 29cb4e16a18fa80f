/** The built-in operators, each usable with RxJS `pipe()` directly. */
export { load, LoadParams } from './load.js';
export { mirror, MirrorParams } from './mirror.js';
export { tile, TileParams } from './tile.js';
export { stitch, StitchParams } from './stitch.js';
export { save, SaveParams } from './save.js';
export { decodeParams, perSample, flatPerSample, type StepContext, type SampleOperator } from './step.js';
export { unet, UnetParams } from './unet.js';
export { train, TrainParams } from './train.js';
export { elastic, ElasticParams } from './elastic.js';
export { weightMap, WeightMapParams } from './weight-map.js';
export { threshold, ThresholdParams } from './threshold.js';
export { instances, InstancesParams } from './instances.js';
export { watershed, WatershedParams } from './watershed.js';
export { evaluate, EvaluateParams, meanMetrics, type SegmentationMetrics } from './evaluate.js';
export { randomTiles, RandomTilesParams } from './random-tiles.js';
export { split, SplitParams } from './split.js';
