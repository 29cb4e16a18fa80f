/**
 * A package's ONNX weights in an ONNX Runtime session, with its pre- and
 * postprocessing around it: tensors in, tensors out, in the package's axis order.
 * Packages run on ONNX Runtime only (engines/choice.ts's usePackageBackend says why).
 */
import { usePackageBackend } from '../engines/choice.js';
import { sessionOptions, type OnnxRuntime, type OrtSession } from '../engines/onnxruntime.js';
import { planarTensors } from './axes.js';
import { readChecked, type Package } from './package.js';
import { applyProcessing, type NamedTensor, type Transform } from './processing.js';
import { axisId, tensorId, weightFormats, type Tensor } from './rdf.js';

export interface PackageSession {
  readonly pkg: Package;
  readonly input: Tensor;
  readonly output: Tensor;
  /** The input's and output's axis ids, in their order. */
  readonly inputAxes: readonly string[];
  readonly outputAxes: readonly string[];
  /** ONNX Runtime's version, for reports. */
  readonly runtime: string;
  /** The network alone: a preprocessed input (package layout) to its raw output. */
  run(x: NamedTensor): Promise<NamedTensor>;
  release(): Promise<void>;
}

/** The package's ONNX weights, checked against their sha256; throws naming the formats it offers when it has none. */
export function onnxWeights(pkg: Package): Uint8Array {
  const entry = pkg.rdf.weights.onnx;
  if (!entry) {
    const offered = weightFormats.filter((f) => pkg.rdf.weights[f]);
    throw new Error(`${pkg.where}: the package offers ${offered.join(', ') || 'no weights'}; unetflow runs onnx weights only (export them to ONNX, e.g. with bioimageio.core's weight converters)`);
  }
  return readChecked(pkg, entry, 'onnx weights');
}

/**
 * Opens the package's ONNX weights in ONNX Runtime with `threads` threads.
 * @param ort the runtime, or what loads it once the weights are found; loaded here when
 *   not given (a clear error without it)
 */
export async function openPackageSession(pkg: Package, threads: number, ort?: OnnxRuntime | (() => Promise<OnnxRuntime>)): Promise<PackageSession> {
  const { input, output } = planarTensors(pkg.rdf, pkg.where);
  const bytes = onnxWeights(pkg);
  const runtime = typeof ort === 'function' ? await ort() : (ort ?? (await usePackageBackend(pkg.where)).onnxruntime);
  let session: OrtSession;
  try {
    session = await runtime.createSession(bytes, sessionOptions(threads, runtime.provider));
  } catch (error) {
    throw new Error(`${pkg.where}: ONNX Runtime ${runtime.version} cannot open the weights ${pkg.rdf.weights.onnx!.source}: ${(error as Error).message}`, { cause: error });
  }
  const outputAxes = output.axes.map(axisId);
  return {
    pkg,
    input,
    output,
    inputAxes: input.axes.map(axisId),
    outputAxes,
    runtime: runtime.version,
    async run(x) {
      let result;
      try {
        result = await session.run({ [session.inputNames[0]]: runtime.floatTensor(x.data, x.shape) });
      } catch (error) {
        throw new Error(`${pkg.where}: ONNX Runtime failed on an input of shape [${x.shape}] (${x.axes.join(', ')}): ${(error as Error).message}`, { cause: error });
      }
      const y = result[session.outputNames[0]];
      if (!(y.data instanceof Float32Array)) throw new Error(`${pkg.where}: the network's output is not float32`);
      if (y.dims.length !== outputAxes.length) throw new Error(`${pkg.where}: the network gave ${y.dims.length} dimensions, the description names ${outputAxes.length} axes`);
      return { data: y.data, shape: [...y.dims], axes: outputAxes };
    },
    release: () => session.release(),
  };
}

/** What bioimageio.core's prediction does with one whole sample: preprocess (statistics from the sample), run, postprocess. */
export async function predictSample(session: PackageSession, x: NamedTensor, preprocess?: Transform): Promise<NamedTensor> {
  const { input, output, pkg } = session;
  const pre = preprocess ? preprocess(x) : applyProcessing(input.preprocessing ?? [], x, `${pkg.where}: ${tensorId(input, 'input')}.preprocessing`);
  const raw = await session.run(pre);
  return applyProcessing(output.postprocessing ?? [], raw, `${pkg.where}: ${tensorId(output, 'output')}.postprocessing`);
}
