/**
 * The optimiser updates of training/optimizer.ts, op for op as tfjs computes them
 * (tf.train.momentum without Nesterov, tf.train.adam), so that both engines take the
 * same step up to the gradients' rounding:
 * - SGD with momentum m: a' = m·a + g; w' = w + (−lr)·a'.
 * - Adam: m' = β1·m + (1−β1)·g; v' = β2·v + (1−β2)·g²;
 *   w' = w + (−lr)·(m'/c1) / (√(v'/c2) + ε), with c1 = 1 − β1^t and c2 = 1 − β2^t
 *   given as inputs (the runner keeps the powers in float32, as tfjs does).
 * The learning rate is an input, so that schedules need no new graph.
 */
import type { GraphBuilder } from './builder.js';

export type GraphOptimizer =
  | { readonly kind: 'sgd'; readonly momentum: number }
  | { readonly kind: 'adam'; readonly beta1: number; readonly beta2: number; readonly epsilon: number };

/** Names of the graph's optimiser inputs and outputs for a weight. */
export function stateNames(optimizer: GraphOptimizer, weight: string): { inputs: string[]; outputs: string[] } {
  const kinds = optimizer.kind === 'sgd' ? ['momentum'] : ['m', 'v'];
  return { inputs: kinds.map((k) => `${k}/${weight}`), outputs: kinds.map((k) => `new-${k}/${weight}`) };
}

/** Emits one weight's update; returns the updated weight and state (named stateNames' outputs). */
export function update(g: GraphBuilder, optimizer: GraphOptimizer, weight: string, gradient: string, negativeRate: string, corrections?: { c1: string; c2: string }): { weight: string; state: string[] } {
  const shape = g.shape(weight);
  const { inputs, outputs } = stateNames(optimizer, weight);
  if (optimizer.kind === 'sgd') {
    const a = g.op('Add', [g.mul(g.scalar(optimizer.momentum), inputs[0]), gradient], shape, {}, outputs[0]);
    return { weight: g.add(g.mul(negativeRate, a), weight), state: [a] };
  }
  const { beta1, beta2, epsilon } = optimizer;
  const m = g.op('Add', [g.mul(inputs[0], g.scalar(beta1)), g.mul(gradient, g.scalar(1 - beta1))], shape, {}, outputs[0]);
  const square = g.mul(gradient, gradient);
  const v = g.op('Add', [g.mul(inputs[1], g.scalar(beta2)), g.mul(square, g.scalar(1 - beta2))], shape, {}, outputs[1]);
  const mHat = g.op('Div', [m, corrections!.c1], shape);
  const vHat = g.op('Div', [v, corrections!.c2], shape);
  const denominator = g.add(g.op('Sqrt', [vHat], shape), g.scalar(epsilon));
  const step = g.op('Div', [mHat, denominator], shape);
  return { weight: g.add(g.mul(step, negativeRate), weight), state: [m, v] };
}
