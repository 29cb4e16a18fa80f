/**
 * A unetflow model folder (src/model/store.ts writes it) read from bytes, without tfjs's
 * file handlers: model.json checked by the same codec, each weights binary checked for
 * the size its manifest needs and the checksum its name carries, float16 weights widened,
 * and the U-Net exported to ONNX (onnx/export.ts) as the Node engine exports it.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { formatIssues, toIssues } from '../../codec/report.js';
import { fromFloat16Bits } from '../../model/float16.js';
import { UNetConfigCodec } from '../../model/network/config.js';
import type { UNetConfig } from '../../model/network/unet.js';
import { exportUNet } from '../../model/onnx/export.js';

/** Where the files come from (src/host/model-files.ts's ModelFiles has this shape). */
export interface ModelFileSource {
  /** How messages name the model, e.g. its folder. */
  readonly name: string;
  /** A file of the model folder by name, e.g. `model.json`. */
  read(file: string): Promise<Uint8Array>;
}

const WeightSpec = t.intersection([t.type({ name: t.string, shape: t.array(t.number), dtype: t.string }), t.partial({ quantization: t.type({ dtype: t.string }) })]);
const ModelJson = t.type({ format: t.literal('unetflow-unet'), version: t.literal(1), config: UNetConfigCodec, weightsManifest: t.array(t.type({ paths: t.array(t.string), weights: t.array(WeightSpec) })) });

export interface UNetFiles {
  readonly config: UNetConfig;
  /** Weights by name, float32. */
  readonly weights: ReadonlyMap<string, Float32Array>;
  /** Bytes of float32 weights (4 per parameter), for memory budgets. */
  readonly weightBytes: number;
  /** The U-Net as an ONNX model, NCHW, softmax inside (onnx/export.ts). */
  readonly onnx: Uint8Array;
}

/** Reads, checks and exports the model in `files`; errors name the file and what to do. */
export async function readUNetFiles(files: ModelFileSource): Promise<UNetFiles> {
  const where = (file: string) => `${files.name}/${file}`;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await files.read('model.json')));
  } catch (error) {
    throw new Error(`${where('model.json')}: ${(error as Error).message} (is this a unetflow model folder?)`, { cause: error });
  }
  const decoded = ModelJson.decode(json);
  if (isLeft(decoded)) throw new Error(`${where('model.json')}: not a unetflow model file\n${formatIssues(toIssues(decoded.left))}`);
  const { config, weightsManifest } = decoded.right;
  const weights = new Map<string, Float32Array>();
  let weightBytes = 0;
  for (const group of weightsManifest) {
    const parts = await Promise.all(group.paths.map(async (p) => {
      const bytes = await files.read(p);
      await verifyChecksum(where(p), p, bytes);
      return bytes;
    }));
    const joined = concat(parts);
    const view = new DataView(joined.buffer, joined.byteOffset, joined.byteLength);
    let at = 0;
    for (const spec of group.weights) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const stored = spec.quantization?.dtype ?? spec.dtype;
      const size = stored === 'float16' ? 2 : stored === 'float32' ? 4 : 0;
      if (!size || spec.dtype !== 'float32') throw new Error(`${where('model.json')}: weight ${spec.name} has dtype '${stored}', which unetflow does not read`);
      if (at + n * size > joined.length) {
        throw new Error(`${group.paths.map(where).join(', ')}: ${joined.length} bytes, model.json's manifest needs more: it is truncated or was replaced — copy the model folder again`);
      }
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = size === 2 ? fromFloat16Bits(view.getUint16(at + i * 2, true)) : view.getFloat32(at + i * 4, true);
      at += n * size;
      weights.set(spec.name, values);
      weightBytes += 4 * n;
    }
    if (at !== joined.length) throw new Error(`${group.paths.map(where).join(', ')}: ${joined.length} bytes, model.json's manifest needs ${at}: it is truncated or was replaced — copy the model folder again`);
  }
  return { config, weights, weightBytes, onnx: exportUNet(config, weights, files.name) };
}

/** store.ts names binaries `<stem>.<first 16 hex digits of their sha256>.bin`. */
async function verifyChecksum(path: string, name: string, bytes: Uint8Array): Promise<void> {
  const named = /\.([0-9a-f]{16})\.bin$/.exec(name)?.[1];
  const subtle = (globalThis as { crypto?: { subtle?: { digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer> } } }).crypto?.subtle;
  if (!named || !subtle) return; // crypto.subtle exists in secure contexts, which WebGPU and folder access need anyway
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  const actual = [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
  if (actual !== named) throw new Error(`${path}: the file is corrupt: its sha256 begins ${actual}, its name says ${named} — copy the model folder again`);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}
