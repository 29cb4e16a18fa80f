/** unetflow's public API: the pipeline runtime, the operators, and the types they share. */
export { runPipeline, loadPipeline, type RunOptions } from './pipeline/run.js';
export { PipelineError } from './pipeline/pipeline-error.js';
export { registerOperator, defaultRegistry, builtinOperators } from './pipeline/builtins.js';
export { defineOperator, OperatorRegistry, type OperatorDefinition } from './pipeline/registry.js';
export * from '../operators/index.js';
export type { Sample, SampleMetadata, Source, SourceRef, TileInfo } from './sample.js';
export type { Margins } from './kernels/mirror.js';
export type { PixelSize } from './image/pixel-size.js';
export type { RunEvent } from './events.js';
export { SampleError, ConfigError } from './errors.js';
export { makeImage, type Image, type DType } from './image/image.js';
export { toFloat32, toInteger, toGrey, type Normalisation } from './image/convert.js';
export { readImage, inspectImage } from './io/read.js';
export { writeImage, encodeImage } from './io/write.js';
export { createRng, deriveSeed, type Rng } from './random.js';
export { exportPackage } from './model/bioimageio/export.js';
export { openPackage } from './model/bioimageio/package.js';
export { checkPackage } from './model/bioimageio/check.js';
