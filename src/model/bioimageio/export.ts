/**
 * A unetflow model folder as a bioimage.io model package (format 0.5), which the zoo's
 * tools run: ONNX weights as the root entry (opset 17, dynamic batch and tile size,
 * the softmax inside the graph), the tfjs folder as a child entry for unetflow's own
 * round trip, test tensors produced by running the exported ONNX on a crop of a test
 * image, a cover (that prediction over the image), a README with a Validation section,
 * and the authors, citations and licence of the model card (card.ts).
 */
import { readFileSync, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { zipSync } from 'fflate';
import { stringify } from 'yaml';
import { version_core } from '@tensorflow/tfjs';
import { writeFileAtomic } from '../../io/atomic.js';
import { readImage } from '../../io/read.js';
import { encodeImage } from '../../io/write.js';
import { makeImage, requireChannels, type Image } from '../../image/image.js';
import { renderOverlay } from '../../kernels/overlay.js';
import { npyToFloat32, readNpy, writeNpy, type NpyType } from '../../io/npy.js';
import { OPSET } from '../onnx/messages.js';
import { exportUNet } from '../onnx/export.js';
import type { OnnxRuntime } from '../engines/onnxruntime.js';
import { outputSize, validSizes } from '../network/geometry.js';
import { loadModel, type ModelMetadata } from '../store.js';
import type { UNetConfig } from '../network/unet.js';
import { validInputs, type SizeGrid } from './axes.js';
import { readCard, type Card } from './card.js';
import { preprocessingFor } from './normalisation.js';
import { sha256, type Package } from './package.js';
import { decodeRdf, type Rdf } from './rdf.js';
import { openPackageSession, predictSample } from './session.js';

/** The format version written; validated against the 0.5.7 schema (0.5.x descriptions are read as the latest 0.5). */
export const FORMAT_VERSION = '0.5.4';
const INPUT = 'raw';
const OUTPUT = 'probabilities';

export interface ExportOptions {
  /** An image the model is meant for: cropped to a valid size, it becomes the test input and the cover. */
  readonly testImage: string;
  /** ONNX Runtime threads. @default 1 */
  readonly threads?: number;
  /** The runtime (tests); loaded when absent. */
  readonly ort?: OnnxRuntime;
}

export interface ExportResult {
  /** The package's files by name (rdf.yaml included), as written. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly rdf: Rdf;
}

/** Writes the package of `modelDir` to `out`: a zip when it ends in `.zip`, else a folder. */
export async function exportPackage(modelDir: string, out: string, options: ExportOptions): Promise<ExportResult> {
  const card = readCard(modelDir);
  const folder = basename(modelDir.replace(/\/+$/, ''));
  const { model, metadata } = await loadModel(modelDir);
  const config = model.config;
  let onnx: Uint8Array;
  try {
    const weights = new Map([...model.weights.entries()].map(([key, v]) => [key, Float32Array.from(v.dataSync())]));
    onnx = exportUNet(config, weights, folder);
  } finally {
    model.dispose();
  }
  const image = await readImage(options.testImage);
  requireChannels(image, config.inputChannels, `the test image ${options.testImage}`);
  const grid = gridOfModel(config, metadata);
  const side = Math.min(image.width, image.height, 572);
  const size = validInputs(grid, side).pop();
  if (size === undefined) throw new Error(`${options.testImage}: ${image.width}x${image.height} is smaller than the model's smallest tile, ${grid.min} px`);
  const crop = centreCrop(image, size);

  const files = new Map<string, Uint8Array>();
  files.set('weights.onnx', onnx);
  files.set('tfjs.zip', tfjsZip(modelDir));
  files.set('test_input.npy', writeNpy({ type: NPY_TYPE[crop.dtype], shape: [1, crop.channels, size, size], data: planar(crop) as never }));
  const name = card.name ?? folder;
  const description = card.description ?? firstParagraph(modelDir) ?? `A U-Net trained with unetflow (${name})`;
  const describe = (withOutput: boolean) =>
    describeModel({ name, description, card, metadata, grid, dtype: crop.dtype, files, withOutput });

  // The test output is what the package itself computes: its preprocessing, its ONNX weights, in ONNX Runtime.
  const pkg = memoryPackage(out, describe(false), files);
  const session = await openPackageSession(pkg, options.threads ?? 1, options.ort);
  const input = readTestInput(files);
  let output;
  try {
    output = await predictSample(session, { data: input, shape: [1, crop.channels, size, size], axes: ['batch', 'channel', 'y', 'x'] });
  } finally {
    await session.release();
  }
  files.set('test_output.npy', writeNpy({ type: 'f4', shape: output.shape, data: output.data }));
  files.set('cover.png', await cover(crop, output.data, output.shape));
  files.set('README.md', new TextEncoder().encode(readme(modelDir, name, description, metadata, size, output.shape)));
  const rdf = describe(true);
  files.set('rdf.yaml', new TextEncoder().encode(stringify(rdf, { lineWidth: 0 })));
  await write(out, files);
  return { files, rdf };
}

/**
 * The input grid of a unetflow network: valid sizes step by 2^depth. A same-padded one
 * keeps a halo of half its overlap (its tiles' borders are what blending played down),
 * so its smallest input is the smallest multiple of 2^depth that leaves some output.
 */
export function gridOfModel(config: UNetConfig, metadata: ModelMetadata): SizeGrid {
  const step = 2 ** config.depth;
  if (config.padding === 'same') {
    const halo = Math.floor((metadata.overlap ?? Math.floor(metadata.tile.input / 4)) / 2);
    return { min: step * (Math.floor((2 * halo) / step) + 1), step, offset: 0, halo };
  }
  const min = validSizes(config, 4096)[0].input;
  return { min, step, offset: outputSize(min, config)! - min, halo: 0 };
}

interface Description {
  readonly name: string;
  readonly description: string;
  readonly card: Card;
  readonly metadata: ModelMetadata;
  readonly grid: SizeGrid;
  readonly dtype: Image['dtype'];
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly withOutput: boolean;
}

function describeModel({ name, description, card, metadata, grid, dtype, files, withOutput }: Description): Rdf {
  const file = (source: string) => ({ source, sha256: sha256(files.get(source)!) });
  const space = (id: string, size: unknown, halo = 0) => ({ type: 'space', id, size, ...(halo ? { halo } : {}) });
  const outSize = (id: string) => ({ tensor_id: INPUT, axis_id: id, offset: grid.offset });
  const { architecture: a } = metadata;
  const rdf = {
    format_version: FORMAT_VERSION,
    type: 'model',
    name,
    description,
    authors: card.authors,
    cite: card.cite,
    license: card.license,
    tags: ['unetflow', 'unet', '2d', 'segmentation', ...(card.tags ?? [])],
    documentation: 'README.md',
    covers: withOutput ? ['cover.png'] : undefined,
    timestamp: new Date().toISOString(),
    inputs: [
      {
        id: INPUT,
        description: `${a.inputChannels}-channel image, ${dtype}; normalised as unetflow does (${metadata.normalisation.method})`,
        axes: [
          { type: 'batch', id: 'batch' },
          { type: 'channel', id: 'channel', channel_names: Array.from({ length: a.inputChannels }, (_, i) => (a.inputChannels === 1 ? 'raw' : `raw${i}`)) },
          space('y', { min: grid.min, step: grid.step }),
          space('x', { min: grid.min, step: grid.step }),
        ],
        test_tensor: file('test_input.npy'),
        data: { type: dtype },
        preprocessing: preprocessingFor(metadata.normalisation, dtype),
      },
    ],
    outputs: [
      {
        id: OUTPUT,
        description: `class probabilities (softmax): ${metadata.classNames.join(', ')}`,
        axes: [
          { type: 'batch', id: 'batch' },
          { type: 'channel', id: 'channel', channel_names: [...metadata.classNames] },
          space('y', outSize('y'), grid.halo),
          space('x', outSize('x'), grid.halo),
        ],
        test_tensor: withOutput ? file('test_output.npy') : undefined,
        data: { type: 'float32', range: [0, 1] },
      },
    ],
    weights: {
      onnx: { ...file('weights.onnx'), opset_version: OPSET, comment: 'exported by unetflow from its tfjs weights; softmax inside the graph' },
      tensorflow_js: { ...file('tfjs.zip'), parent: 'onnx', tensorflow_version: version_core, comment: 'the unetflow model folder, for fine-tuning with unetflow' },
    },
    config: { unetflow: { architecture: a, tile: metadata.tile, normalisation: metadata.normalisation, ...(metadata.provenance ? { provenance: metadata.provenance } : {}) } },
  };
  return decodeRdf(JSON.parse(JSON.stringify(rdf)), 'rdf.yaml'); // drops the undefined fields
}

const NPY_TYPE: Record<Image['dtype'], NpyType> = { uint8: 'u1', uint16: 'u2', float32: 'f4' };

/** Channel planes of an NHWC image: [C, H, W]. */
function planar(image: Image): Image['data'] {
  const { width, height, channels, data } = image;
  const out = new (data.constructor as new (n: number) => Image['data'])(data.length);
  const n = width * height;
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) out[c * n + i] = data[i * channels + c];
  return out;
}

function centreCrop(image: Image, size: number): Image {
  const top = Math.floor((image.height - size) / 2);
  const left = Math.floor((image.width - size) / 2);
  const c = image.channels;
  const out = new (image.data.constructor as new (n: number) => Image['data'])(size * size * c);
  for (let y = 0; y < size; y++) out.set(image.data.subarray(((top + y) * image.width + left) * c, ((top + y) * image.width + left + size) * c), y * size * c);
  return makeImage(size, size, c, image.dtype, out as never, image.sourceType);
}

/** The test input read back from the file just written, as a consumer will read it. */
function readTestInput(files: ReadonlyMap<string, Uint8Array>): Float32Array {
  return npyToFloat32(readNpy(files.get('test_input.npy')!));
}

/** The model folder's binaries and JSON, zipped (tensorflow_js weights are one archive). */
function tfjsZip(dir: string): Uint8Array {
  const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const names = ['model.json', 'metadata.json', ...modelJson.weightsManifest.flatMap((g) => g.paths)];
  return zipSync(Object.fromEntries(names.map((n) => [n, readFileSync(join(dir, n)) as Uint8Array])));
}

/** The test image crop with the outlines of the argmax classes of the prediction, beside the crop alone (2:1). */
async function cover(crop: Image, probabilities: Float32Array, shape: readonly number[]): Promise<Uint8Array> {
  const [, k, h, w] = shape;
  const inner = centreCrop(crop, h);
  const classes = new Uint8Array(h * w);
  for (let i = 0; i < h * w; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probabilities[c * h * w + i] > probabilities[best * h * w + i]) best = c;
    classes[i] = best;
  }
  const overlay = renderOverlay(inner, makeImage(w, h, 1, 'uint8', classes));
  const plain = renderOverlay(inner, makeImage(w, h, 1, 'uint8', new Uint8Array(h * w)));
  const both = new Uint8Array(h * 2 * w * 3);
  for (let y = 0; y < h; y++) {
    both.set(plain.data.subarray(y * w * 3, (y + 1) * w * 3), y * 2 * w * 3);
    both.set(overlay.data.subarray(y * w * 3, (y + 1) * w * 3), (y * 2 + 1) * w * 3);
  }
  return encodeImage(makeImage(2 * w, h, 3, 'uint8', both), 'png');
}

function firstParagraph(dir: string): string | undefined {
  const path = join(dir, 'README.md');
  if (!existsSync(path)) return undefined;
  const paragraph = readFileSync(path, 'utf8').split(/\n\s*\n/).find((p) => p.trim() && !p.startsWith('#'));
  return paragraph?.replace(/\s+/g, ' ').trim().slice(0, 1024);
}

function readme(dir: string, name: string, description: string, metadata: ModelMetadata, size: number, outShape: readonly number[]): string {
  const path = join(dir, 'README.md');
  // The model folder's README, its title replaced and its links into the repository (which the package lacks) kept as text.
  const card = existsSync(path) ? readFileSync(path, 'utf8').replace(/^# .*\n/, '').replace(/\[([^\]]+)\]\((?!https?:)[^)]*\)/g, '$1') : `${description}\n`;
  const last = metadata.provenance?.lastValidation as Record<string, unknown> | undefined;
  const scores = last ? Object.entries(last).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${Number(v).toPrecision(4)}`).join(', ') : undefined;
  return [
    `# ${name}`,
    '',
    card.trim(),
    '',
    '# Validation',
    '',
    `- The test tensors were produced by running this package's ONNX weights (weights.onnx, opset ${OPSET}) in ONNX Runtime on a ${size}x${size} crop of a test image, ` +
      `after the package's own preprocessing: \`test_output.npy\` [${outShape.join(', ')}] holds the class probabilities.`,
    '- `unetflow check-model PACKAGE` (or `bioimageio test PACKAGE`) reruns them: the output must agree within 1e-3.',
    `- The ONNX graph is exported from unetflow's tfjs weights (\`tfjs.zip\`, the unetflow model folder), whose own prediction it reproduces.`,
    ...(scores ? [`- Last validation during training: ${scores}.`] : []),
    '',
  ].join('\n');
}

function memoryPackage(where: string, rdf: Rdf, files: ReadonlyMap<string, Uint8Array>): Package {
  return {
    where,
    descriptionName: 'rdf.yaml',
    rdf,
    has: (name) => files.has(name),
    read: (name) => {
      const bytes = files.get(name);
      if (!bytes) throw new Error(`${where}: ${name} is not written yet`);
      return bytes;
    },
  };
}

async function write(out: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  if (out.endsWith('.zip')) {
    await mkdir(dirname(out), { recursive: true });
    await writeFileAtomic(out, zipSync(Object.fromEntries(files)));
    return;
  }
  await mkdir(out, { recursive: true });
  for (const [name, bytes] of files) if (name !== 'rdf.yaml') await writeFileAtomic(join(out, name), bytes);
  await writeFileAtomic(join(out, 'rdf.yaml'), files.get('rdf.yaml')!); // last: a folder with rdf.yaml is complete
}
