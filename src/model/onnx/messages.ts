/**
 * The subset of ONNX's schema (onnx/onnx.proto, proto2) that a U-Net needs: float and
 * int64 tensors, nodes with int / ints attributes, tensor-typed graph inputs and
 * outputs with fixed or named (dynamic) dimensions, the graph and the model. Field
 * numbers are the schema's.
 */
import { Message } from './protobuf.js';

/** IR version 8 is the one that goes with opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;
export const OPSET = 17;

const DataType = { float: 1, int64: 7 } as const;
const AttributeType = { INT: 2, INTS: 7 } as const;

/** A float32 tensor (weights), stored as little-endian raw bytes. */
export function floatTensor(name: string, dims: readonly number[], values: Float32Array): Message {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new RangeError(`ONNX tensor '${name}': ${values.length} values for dims [${dims}]`);
  return tensor(name, dims, DataType.float, littleEndian(values));
}

/** A one-dimensional int64 tensor (Slice's starts, ends, axes). */
export function int64Tensor(name: string, values: readonly number[]): Message {
  return tensor(name, [values.length], DataType.int64, littleEndian(BigInt64Array.from(values, (v) => BigInt(v))));
}

function tensor(name: string, dims: readonly number[], dataType: number, raw: Uint8Array): Message {
  return new Message().ints(1, dims).int(2, dataType).string(8, name).bytes(9, raw);
}

// ONNX raw_data is little-endian whatever the host; typed arrays use the host's order.
const hostIsLittleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function littleEndian(values: Float32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (hostIsLittleEndian) return bytes;
  const out = new Uint8Array(bytes.length);
  const width = values.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += width) for (let k = 0; k < width; k++) out[i + k] = bytes[i + width - 1 - k];
  return out;
}

export type Attribute = number | readonly number[];

/** A node: `op` from the default domain, its inputs, outputs and int / ints attributes. */
export function node(op: string, name: string, inputs: readonly string[], outputs: readonly string[], attributes: Readonly<Record<string, Attribute>> = {}): Message {
  const m = new Message();
  for (const i of inputs) m.string(1, i);
  for (const o of outputs) m.string(2, o);
  m.string(3, name).string(4, op);
  for (const [key, value] of Object.entries(attributes)) {
    const a = new Message().string(1, key);
    if (typeof value === 'number') a.int(3, value).int(20, AttributeType.INT);
    else a.ints(8, value).int(20, AttributeType.INTS);
    m.message(5, a);
  }
  return m;
}

/** A float32 graph input or output; a string dimension is dynamic, named. */
export function floatValueInfo(name: string, dims: readonly (number | string)[]): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, DataType.float).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

export interface Graph {
  readonly name: string;
  readonly nodes: readonly Message[];
  readonly initializers: readonly Message[];
  readonly inputs: readonly Message[];
  readonly outputs: readonly Message[];
}

/** A ModelProto holding `graph`, importing the default opset. */
export function model(graph: Graph, producer: { name: string; version: string }): Message {
  const g = new Message();
  for (const n of graph.nodes) g.message(1, n);
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, t);
  for (const i of graph.inputs) g.message(11, i);
  for (const o of graph.outputs) g.message(12, o);
  return new Message()
    .int(1, IR_VERSION)
    .string(2, producer.name)
    .string(3, producer.version)
    .message(7, g)
    .message(8, new Message().string(1, '').int(2, OPSET));
}
