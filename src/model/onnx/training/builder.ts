/**
 * A graph under construction with every tensor's static shape known: the training
 * graph is built for one batch and tile size (ScatterElements' zeros, Split's sizes and
 * the weight gradients' reshapes need them), so shapes are tracked here rather than
 * left to ONNX Runtime's inference.
 */
import { floatTensor, floatValueInfo, int64Tensor, node, type Attribute, type Graph } from '../messages.js';
import type { Message } from '../protobuf.js';

export type Shape = readonly number[];

export class GraphBuilder {
  readonly nodes: Message[] = [];
  readonly initializers: Message[] = [];
  readonly inputs: Message[] = [];
  readonly outputs: Message[] = [];
  private readonly shapes = new Map<string, Shape>();
  private readonly constants = new Map<string, string>();
  private count = 0;

  shape(name: string): Shape {
    const s = this.shapes.get(name);
    if (!s) throw new Error(`training graph: no tensor '${name}'`);
    return s;
  }

  /** A float32 graph input of a fixed shape. */
  input(name: string, shape: Shape): string {
    this.inputs.push(floatValueInfo(name, shape));
    this.shapes.set(name, shape);
    return name;
  }

  /** Exposes `tensor` as the graph output `name` (an Identity unless the names agree). */
  output(name: string, tensor: string): void {
    const shape = this.shape(tensor);
    if (name !== tensor) this.op('Identity', [tensor], shape, {}, name);
    this.outputs.push(floatValueInfo(name, shape));
  }

  /** A node with one output of `shape`; returns the output's name. */
  op(type: string, inputs: readonly string[], shape: Shape, attributes: Readonly<Record<string, Attribute>> = {}, name?: string): string {
    const out = name ?? `${type.toLowerCase()}_${this.count++}`;
    this.nodes.push(node(type, out, inputs, [out], attributes));
    this.shapes.set(out, shape);
    return out;
  }

  /** A node with several outputs, named and shaped by the caller. */
  multi(type: string, inputs: readonly string[], outputs: readonly { shape: Shape; int64?: boolean }[], attributes: Readonly<Record<string, Attribute>> = {}): string[] {
    const names = outputs.map(() => `${type.toLowerCase()}_${this.count++}`);
    this.nodes.push(node(type, names[0], inputs, names, attributes));
    names.forEach((n, i) => this.shapes.set(n, outputs[i].shape));
    return names;
  }

  /** A shared float32 scalar constant. */
  scalar(value: number): string {
    const key = `f${Math.fround(value)}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_${this.count++}`;
      this.initializers.push(floatTensor(name, [], Float32Array.of(value)));
      this.constants.set(key, name);
      this.shapes.set(name, []);
    }
    return name;
  }

  /** A shared one-dimensional int64 constant (shapes, axes, pads, starts). */
  ints(values: readonly number[]): string {
    const key = `i${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_${this.count++}`;
      this.initializers.push(int64Tensor(name, values));
      this.constants.set(key, name);
      this.shapes.set(name, [values.length]);
    }
    return name;
  }

  reshape(x: string, shape: Shape): string {
    const from = this.shape(x);
    if (from.join('x') === shape.join('x')) return x;
    if (size(from) !== size(shape)) throw new Error(`training graph: cannot reshape [${from}] to [${shape}]`);
    return this.op('Reshape', [x, this.ints(shape)], shape);
  }

  transpose(x: string, perm: readonly number[]): string {
    const from = this.shape(x);
    return this.op('Transpose', [x], perm.map((p) => from[p]), { perm });
  }

  add(a: string, b: string): string {
    return this.op('Add', [a, b], broadcast(this.shape(a), this.shape(b)));
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b], broadcast(this.shape(a), this.shape(b)));
  }

  /** Sums over `axes`, dropping them. */
  sum(x: string, axes: readonly number[]): string {
    const shape = this.shape(x).filter((_, i) => !axes.includes(i));
    return this.op('ReduceSum', [x, this.ints(axes)], shape, { keepdims: 0 });
  }

  graph(name: string): Graph {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs };
  }
}

export function size(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`training graph: shapes [${a}] and [${b}] do not broadcast`);
    out.push(Math.max(x, y));
  }
  return out;
}
