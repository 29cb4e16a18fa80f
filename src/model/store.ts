/**
 * The model directory: `model.json` (configuration + weights manifest, the tfjs
 * weights-manifest format), `weights.<hash>.bin`, `metadata.json` (architecture,
 * geometry, input normalisation, class names, provenance) and, for checkpoints,
 * `optimizer.<hash>.bin`. tfjs has no file:// handler without tfjs-node, so weights
 * go through tf.io.encodeWeights / decodeWeights (what withSaveHandler / fromMemory
 * use) and node:fs.
 *
 * Saving never leaves a half-written model: binaries get content-hashed names and are
 * written first, metadata.json next, and model.json — the file a loader starts from —
 * is renamed into place last; only then are superseded binaries removed.
 *
 * Loading never uses a damaged model: each binary must have the size its manifest
 * needs and, when its name carries one, the sha256 prefix its name says.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { formatIssues, toIssues } from '../codec/report.js';
import type { Normalisation } from '../image/convert.js';
import type { IntensitySummary } from '../image/intensity.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { TileGeometry } from '../kernels/tiling.js';
import { isPackage } from './bioimageio/package.js';
import { geometryOfPackage } from './bioimageio/runnable.js';
import { toFloat16 } from './float16.js';
import { sizeMap, validSizes } from './network/geometry.js';
import { UNetConfigCodec } from './network/config.js';
import { UNet, unetConfig, type UNetConfig } from './network/unet.js';

const FORMAT = 'unetflow-unet';

const WeightSpec = t.intersection([
  t.type({ name: t.string, shape: t.array(t.number), dtype: t.string }),
  t.partial({ quantization: t.type({ dtype: t.string }) }),
]);
const Manifest = t.array(t.type({ paths: t.array(t.string), weights: t.array(WeightSpec) }));

const ModelJson = t.intersection([
  t.type({ format: t.literal(FORMAT), version: t.literal(1), config: UNetConfigCodec, weightsManifest: Manifest }),
  t.partial({ optimizerManifest: Manifest }),
]);

const Metadata = t.intersection([
  t.type({
    architecture: UNetConfigCodec,
    /** The tile size the model was made for; any other valid size works too. */
    tile: t.type({ input: t.number, output: t.number }),
    normalisation: t.UnknownRecord,
    classNames: t.array(t.string),
  }),
  t.partial({
    /** Same-padded models: overlap of neighbouring tiles. */
    overlap: t.number,
    provenance: t.UnknownRecord,
    inputIntensity: t.intersection([t.type({ low: t.number, high: t.number, mean: t.number }), t.partial({ values: t.number })]),
  }),
]);

/** What metadata.json says about a model. */
export interface ModelMetadata {
  readonly architecture: UNetConfig;
  readonly tile: { readonly input: number; readonly output: number };
  /** Same-padded models: overlap of neighbouring tiles, px. @default tile / 4 */
  readonly overlap?: number;
  /** How images are turned into network input (src/image/convert.ts). */
  readonly normalisation: Normalisation;
  /** One name per class, index = class. */
  readonly classNames: readonly string[];
  /** Training provenance: step, date, seed, data, backend, ... (free-form JSON). */
  readonly provenance?: Readonly<Record<string, unknown>>;
  /**
   * The network input's intensities during training, after normalisation: 1st and
   * 99.8th percentiles and mean, over `values` values. `unet` warns about inputs far
   * from them (src/image/intensity.ts says what far means); absent, nothing is checked.
   */
  readonly inputIntensity?: IntensitySummary & { readonly values?: number };
}

/** A saved optimiser state: named arrays in the weights' order. */
export type OptimizerState = readonly { name: string; shape: number[]; data: Float32Array }[];

export interface LoadedModel {
  readonly model: UNet;
  readonly metadata: ModelMetadata;
  /** Present in checkpoints. */
  readonly optimizerState?: OptimizerState;
}

/** Sensible metadata for a configuration: the largest valid tile up to 572 px, [0, 1] input, classes named by index. */
export function defaultMetadata(config: UNetConfig, extra: Partial<ModelMetadata> = {}): ModelMetadata {
  const sizes = validSizes(config, 572);
  const tile = sizes.length ? sizes[sizes.length - 1] : sizeMap(validSizes(config, 4096)[0].input, config);
  return {
    architecture: config,
    tile,
    normalisation: { method: 'dtype' },
    classNames: config.classes === 2 ? ['background', 'foreground'] : Array.from({ length: config.classes }, (_, i) => `class${i}`),
    ...extra,
  };
}

/** Writes `model` (and optionally an optimiser state) to `dir`, atomically as described above. */
/**
 * Writes a model directory. `precision: 'float16'` stores the weights at half the size
 * (for shipping a model; tfjs dequantises them on load): relative rounding 2^-11.
 */
export async function saveModel(
  dir: string,
  model: UNet,
  metadata: ModelMetadata,
  optimizerState?: OptimizerState,
  options: { precision?: 'float32' | 'float16' } = {},
): Promise<void> {
  sizeMap(metadata.tile.input, model.config); // refuse metadata naming a tile the network cannot take
  if (metadata.classNames.length !== model.config.classes) {
    throw new RangeError(`metadata names ${metadata.classNames.length} classes, the model has ${model.config.classes}`);
  }
  const named = [...model.weights.entries()].map(([name, tensor]) => ({ name, tensor }));
  const weights = options.precision === 'float16' ? await encodeFloat16(named) : await tf.io.encodeWeights(named);
  const weightsFile = await writeBinary(dir, 'weights', weights.data);
  const modelJson: t.TypeOf<typeof ModelJson> = {
    format: FORMAT,
    version: 1,
    config: { ...model.config },
    weightsManifest: [{ paths: [weightsFile], weights: weights.specs }],
  };
  const keep = [weightsFile];
  if (optimizerState) {
    const tensors = optimizerState.map((s) => ({ name: s.name, tensor: tf.tensor(s.data, s.shape) }));
    const state = await tf.io.encodeWeights(tensors).finally(() => tf.dispose(tensors.map((n) => n.tensor)));
    const optimizerFile = await writeBinary(dir, 'optimizer', state.data);
    modelJson.optimizerManifest = [{ paths: [optimizerFile], weights: state.specs }];
    keep.push(optimizerFile);
  }
  await writeFileAtomic(join(dir, 'metadata.json'), JSON.stringify({ ...metadata, architecture: model.config }, null, 2) + '\n');
  await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(modelJson, null, 2) + '\n');
  for (const f of await readdir(dir)) {
    if (/^(weights|optimizer)\.[0-9a-f]+\.bin$/.test(f) && !keep.includes(f)) await rm(join(dir, f), { force: true });
  }
}

/** Reads a model directory written by saveModel. */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const modelJson = decode(ModelJson, await readJson(join(dir, 'model.json')), join(dir, 'model.json'));
  const metadata = await readMetadata(dir);
  const config = unetConfig(modelJson.config);
  const tensors = await readWeights(dir, modelJson.weightsManifest);
  try {
    const model = UNet.fromTensors(config, tensors);
    let optimizerState: OptimizerState | undefined;
    if (modelJson.optimizerManifest) {
      const state = await readWeights(dir, modelJson.optimizerManifest);
      optimizerState = modelJson.optimizerManifest[0].weights.map((s) => ({ name: s.name, shape: s.shape, data: Float32Array.from(state[s.name].dataSync()) }));
      tf.dispose(state);
    }
    return { model, metadata, optimizerState };
  } finally {
    tf.dispose(tensors); // the model holds copies in its variables
  }
}

/**
 * Checks a model directory without building the network: model.json and metadata.json
 * parse and validate, and every weights and optimiser file they list is present, has
 * the size its manifest needs and the checksum its name carries. Throws an Error whose
 * message names the file and says what is wrong.
 */
export async function checkModelDir(dir: string): Promise<void> {
  const modelJson = decode(ModelJson, await readJson(join(dir, 'model.json')), join(dir, 'model.json'));
  await readMetadata(dir);
  await readBinaries(dir, modelJson.weightsManifest);
  if (modelJson.optimizerManifest) await readBinaries(dir, modelJson.optimizerManifest);
}

/** metadata.json of a model directory, checked. */
export async function readMetadata(dir: string): Promise<ModelMetadata> {
  const path = join(dir, 'metadata.json');
  const m = decode(Metadata, await readJson(path), path);
  return { ...m, architecture: unetConfig(m.architecture), normalisation: m.normalisation as Normalisation };
}

/**
 * The tile geometry a stored model needs, for `mirror` and `tile`: its valid tile
 * (or, for a same-padded model, its tile with overlap and a gaussian window); for a
 * bioimage.io package, the geometry of its axes.
 */
export async function geometryOfModel(dir: string): Promise<TileGeometry> {
  if (isPackage(dir)) return geometryOfPackage(dir);
  return geometryOfMetadata(await readMetadata(dir));
}

/** The tile geometry that metadata describes. */
export function geometryOfMetadata(m: ModelMetadata): TileGeometry {
  const { input, output } = sizeMap(m.tile.input, m.architecture);
  if (m.architecture.padding === 'valid') return { kind: 'valid', input, output };
  return { kind: 'same', tile: input, overlap: m.overlap ?? Math.floor(input / 4), window: 'gaussian' };
}

async function encodeFloat16(named: { name: string; tensor: tf.Tensor }[]): Promise<{ data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] }> {
  const parts = await Promise.all(named.map(async ({ tensor }) => toFloat16((await tensor.data()) as Float32Array)));
  const data = new Uint16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.length;
  }
  const specs = named.map(({ name, tensor }) => ({ name, shape: tensor.shape, dtype: 'float32' as const, quantization: { dtype: 'float16' as const } }));
  return { data: data.buffer, specs };
}

async function writeBinary(dir: string, stem: string, data: ArrayBuffer): Promise<string> {
  const bytes = new Uint8Array(data);
  const name = `${stem}.${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.bin`;
  await writeFileAtomic(join(dir, name), bytes);
  return name;
}

async function readWeights(dir: string, manifest: t.TypeOf<typeof Manifest>): Promise<tf.NamedTensorMap> {
  const buffers = await readBinaries(dir, manifest);
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    joined.set(b, offset);
    offset += b.length;
  }
  const specs = manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  return tf.io.decodeWeights(joined.buffer, specs);
}

/** Bytes per value as stored: the quantised type's when weights are quantised. */
const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint16: 2, uint8: 1 };

/** The binaries a manifest lists, in order, each group checked for size and each file for its checksum. */
async function readBinaries(dir: string, manifest: t.TypeOf<typeof Manifest>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const group of manifest) {
    const files = group.paths.map((p) => join(dir, p));
    const buffers = await Promise.all(files.map(readBinary));
    const needed = group.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * storedBytes(w, dir), 0);
    const has = buffers.reduce((n, b) => n + b.length, 0);
    if (has !== needed) {
      const what = files.length === 1 ? `the file has ${count(has)} bytes` : `its ${files.length} files have ${count(has)} bytes together`;
      throw new Error(`${files.join(', ')}: ${what}, model.json's manifest needs ${count(needed)}: it is truncated or was replaced — copy the model folder again`);
    }
    buffers.forEach((b, i) => verifyChecksum(files[i], b));
    out.push(...buffers);
  }
  return out;
}

async function readBinary(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing: model.json lists it' : `cannot read: ${(error as Error).message}`;
    throw new Error(`${path}: ${why} — copy the whole model folder again`, { cause: error });
  }
}

/** saveModel names binaries `<stem>.<first 16 hex digits of their sha256>.bin`; other names carry no checksum. */
function verifyChecksum(path: string, bytes: Uint8Array): void {
  const named = /\.([0-9a-f]{16})\.bin$/.exec(path)?.[1];
  if (!named) return;
  const actual = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  if (actual !== named) throw new Error(`${path}: the file is corrupt: its sha256 begins ${actual}, its name says ${named} — copy the model folder again`);
}

function storedBytes(spec: t.TypeOf<typeof WeightSpec>, dir: string): number {
  const type = spec.quantization?.dtype ?? spec.dtype;
  const bytes = STORED_BYTES[type];
  if (!bytes) throw new Error(`${join(dir, 'model.json')}: weight ${spec.name} has dtype '${type}', which unetflow does not read`);
  return bytes;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message} (is this a unetflow model directory?)`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function decode<C extends t.Any>(codec: C, value: unknown, path: string): t.TypeOf<C> {
  const result = codec.decode(value);
  if (isLeft(result)) throw new Error(`${path}: not a unetflow model file\n${formatIssues(toIssues(result.left))}`);
  return result.right;
}
