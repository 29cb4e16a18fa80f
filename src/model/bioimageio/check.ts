/**
 * `unetflow check-model`: what bioimageio.core's test of a package does, on ONNX
 * Runtime. Every file the description gives a sha256 for is checked; the package's
 * test input is run through its preprocessing, the ONNX weights and its
 * postprocessing, in a batch of 1 and of 2, and compared with its test output; then
 * inputs of several valid sizes are run and their output shapes checked against the
 * axes. Also which tools run which of its weights.
 */
import { npyToFloat32, readNpy } from '../../io/npy.js';
import type { OnnxRuntime } from '../engines/onnxruntime.js';
import { sizeGrid, validInputs } from './axes.js';
import { consumers } from './consumers.js';
import { describedFiles, sha256, type Package } from './package.js';
import { brokenRules } from './rules.js';
import type { NamedTensor } from './processing.js';
import { tensorId } from './rdf.js';
import { openPackageSession, predictSample, type PackageSession } from './session.js';

export interface CheckLine {
  readonly ok: boolean;
  /** A warning: reported, not a failure. */
  readonly warn?: boolean;
  readonly message: string;
}

export interface CheckReport {
  readonly lines: CheckLine[];
  readonly ok: boolean;
}

/** bioimageio.core's default tolerance: |output - expected| <= 1e-3 + 1e-3 |expected|. */
const TOLERANCE = { absolute: 1e-3, relative: 1e-3 };

export async function checkPackage(pkg: Package, options: { threads?: number; ort?: OnnxRuntime } = {}): Promise<CheckReport> {
  const lines: CheckLine[] = [];
  checksums(pkg, lines);
  for (const c of consumers(pkg.rdf)) {
    const runs = c.tools.length ? `runs in ${c.tools.join(', ')}` : 'runs in none of the zoo tools';
    lines.push({ ok: true, message: `weights ${c.format}: ${runs}${c.notes.length ? ` (${c.notes.join('; ')})` : ''}` });
  }
  const session = await openPackageSession(pkg, options.threads ?? 1, options.ort);
  try {
    await testTensors(session, lines);
    await validSizes(session, lines);
  } finally {
    await session.release();
  }
  return { lines, ok: lines.every((l) => l.ok) };
}

/** The description's rules, then every file with a sha256; a missing file of a weights entry only makes that format unavailable. */
function checksums(pkg: Package, lines: CheckLine[]): void {
  const broken = brokenRules(pkg);
  lines.push(broken.length ? { ok: false, message: `description rules: ${broken.join('; ')}` } : { ok: true, message: 'description rules (ids, parents, size references, halo, test tensor shapes, sha256): all hold' });
  for (const f of describedFiles(pkg.rdf)) {
    const what = `${f.path}: ${f.source}`;
    if (/^https?:\/\//.test(f.source)) lines.push({ ok: true, warn: true, message: `${what}: a URL, not checked (offline)` });
    else if (!pkg.has(f.source)) lines.push({ ok: f.weights !== undefined, warn: true, message: `${what}: not in the package${f.weights ? ` (${f.weights} weights cannot be used from this copy)` : ''}` });
    else if (sha256(pkg.read(f.source)) === f.sha256) lines.push({ ok: true, message: `${what}: sha256 matches` });
  }
}

async function testTensors(session: PackageSession, lines: CheckLine[]): Promise<void> {
  const { pkg, input, output } = session;
  if (!input.test_tensor || !output.test_tensor) {
    lines.push({ ok: false, message: 'the description names no test tensors: nothing to test against' });
    return;
  }
  const x = readNpy(pkg.read(input.test_tensor.source), input.test_tensor.source);
  const expected = readNpy(pkg.read(output.test_tensor.source), output.test_tensor.source);
  const xt: NamedTensor = { data: npyToFloat32(x), shape: x.shape, axes: session.inputAxes };
  const want = npyToFloat32(expected);
  const batchFixed = input.axes.some((a) => a.type === 'batch' && a.size === 1);
  for (const batch of batchFixed ? [1] : [1, 2]) {
    const y = await predictSample(session, repeatBatch(xt, batch));
    if (y.data.length !== batch * want.length) {
      lines.push({ ok: false, message: `batch ${batch}: output shape [${y.shape}], the test output's is [${expected.shape}]` });
      continue;
    }
    let worst = 0;
    let mismatched = 0;
    for (let i = 0; i < y.data.length; i++) {
      const e = want[i % want.length];
      const d = Math.abs(y.data[i] - e);
      worst = Math.max(worst, d);
      if (!(d <= TOLERANCE.absolute + TOLERANCE.relative * Math.abs(e))) mismatched++;
    }
    const message = `test tensors, batch ${batch}: ${tensorId(output, 'output')} [${y.shape}] agrees with ${output.test_tensor.source} to ${worst.toExponential(2)} (max |difference|, tolerance 1e-3 + 1e-3 |expected|)`;
    lines.push(mismatched === 0 ? { ok: true, message } : { ok: false, message: `${message}: ${mismatched} values outside` });
  }
  if (batchFixed) lines.push({ ok: true, message: 'batch 2: not tested, the batch size is fixed to 1' });
}

/** Inputs of the three smallest valid sizes from the test input (mirrored or cropped to size); their output shapes must be what the axes say. */
async function validSizes(session: PackageSession, lines: CheckLine[]): Promise<void> {
  const { pkg, input } = session;
  const grid = sizeGrid(pkg.rdf, pkg.where);
  if (grid.step === 0) return void lines.push({ ok: true, message: `sizes: the input size is fixed at ${grid.min}` });
  const x = readNpy(pkg.read(input.test_tensor!.source));
  const xt: NamedTensor = { data: npyToFloat32(x), shape: x.shape, axes: session.inputAxes };
  for (const size of validInputs(grid, grid.min + 2 * grid.step)) {
    const y = await predictSample(session, resizeSpatial(xt, size));
    const want = size + grid.offset;
    const got = ['y', 'x'].map((a) => y.shape[y.axes.indexOf(a)]);
    const message = `size ${size}: output ${got.join('x')}, the axes say ${want}x${want}`;
    lines.push({ ok: got[0] === want && got[1] === want && y.data.every(Number.isFinite), message });
  }
}

function repeatBatch(x: NamedTensor, n: number): NamedTensor {
  const b = x.axes.indexOf('batch');
  if (n === 1) return x;
  if (b !== 0 || x.shape[0] !== 1) throw new Error(`batch ${n}: the test input's batch axis must come first with size 1, got [${x.shape}] (${x.axes})`);
  const data = new Float32Array(x.data.length * n);
  for (let i = 0; i < n; i++) data.set(x.data, i * x.data.length);
  return { ...x, data, shape: [n, ...x.shape.slice(1)] };
}

/** `x` cut or mirror-extended (symmetric) to `size` along y and x, from its top-left corner. */
function resizeSpatial(x: NamedTensor, size: number): NamedTensor {
  const shape = x.axes.map((a, d) => (a === 'y' || a === 'x' ? size : x.shape[d]));
  const strides = x.shape.map((_, d) => x.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const outStrides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const fold = (i: number, n: number) => {
    const p = i % (2 * n);
    return p < n ? p : 2 * n - 1 - p;
  };
  for (let i = 0; i < data.length; i++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += fold(Math.floor(i / outStrides[d]) % shape[d], x.shape[d]) * strides[d];
    data[i] = x.data[src];
  }
  return { data, shape, axes: x.axes };
}
