/**
 * What a pipeline needs to know about a package before any image arrives: that
 * unetflow can run it (2D axes it can tile, ONNX weights with the right sha256, a
 * description that keeps its own rules) and the tile geometry of its axes.
 * Synchronous, so that `unetflow validate` and run start-up find a wrong package.
 */
import type { TileGeometry } from '../../kernels/tiling.js';
import { gridGeometry, planarTensors, sizeGrid } from './axes.js';
import { processingIds } from './processing.js';
import { openPackage } from './package.js';
import { brokenRules } from './rules.js';
import { onnxWeights } from './session.js';

/** Throws saying why `path` is not a package that unetflow can run. */
export function checkRunnablePackage(path: string): void {
  const pkg = openPackage(path);
  const { input, output } = planarTensors(pkg.rdf, pkg.where);
  sizeGrid(pkg.rdf, pkg.where);
  onnxWeights(pkg);
  for (const [ops, what] of [[input.preprocessing, 'inputs[0].preprocessing'], [output.postprocessing, 'outputs[0].postprocessing']] as const) {
    const unknown = (ops ?? []).find((op) => !(processingIds as readonly string[]).includes(op.id));
    if (unknown) throw new Error(`${path}: ${what} uses the operation '${unknown.id}', which unetflow does not run; it runs ${processingIds.join(', ')}`);
  }
  const broken = brokenRules(pkg);
  if (broken.length) throw new Error(`${path}: the description breaks its own rules: ${broken.join('; ')}`);
}

/** The tile geometry of a package's axes, at `input` px or its default size (axes.ts gridGeometry). */
export function geometryOfPackage(path: string, input?: number): TileGeometry {
  const pkg = openPackage(path);
  return gridGeometry(sizeGrid(pkg.rdf, pkg.where), path, input);
}
