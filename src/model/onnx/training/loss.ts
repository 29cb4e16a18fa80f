/**
 * The paper's energy as training/loss.ts defines it: softmax over the class channels,
 * cross-entropy against one-hot labels, weighted per pixel by the weight map, summed
 * and divided by the number of pixels of the batch's labels (N·H·W). Its gradient with
 * respect to the logits z is w · (softmax(z) · Σ_k y_k − y) / (N·H·W): Σ_k y_k is 1
 * for a label in range and 0 for one outside it, as tf.oneHot makes it.
 */
import type { GraphBuilder } from './builder.js';

/** The loss (a scalar) and its gradient with respect to `logits` [N, K, H, W]. */
export function weightedCrossEntropy(g: GraphBuilder, logits: string, oneHot: string, weights: string): { loss: string; gradient: string } {
  const [n, k, h, w] = g.shape(logits);
  const normaliser = g.scalar(n * h * w);
  const logP = g.op('LogSoftmax', [logits], [n, k, h, w], { axis: 1 });
  const trueLogP = g.op('ReduceSum', [g.mul(logP, oneHot), g.ints([1])], [n, 1, h, w], { keepdims: 1 });
  const weighted = g.mul(g.op('Neg', [trueLogP], [n, 1, h, w]), weights);
  const total = g.op('ReduceSum', [weighted], [], { keepdims: 0 });
  const loss = g.op('Div', [total, normaliser], []);

  const p = g.op('Softmax', [logits], [n, k, h, w], { axis: 1 });
  const labelled = g.op('ReduceSum', [oneHot, g.ints([1])], [n, 1, h, w], { keepdims: 1 });
  const residual = g.op('Sub', [g.mul(p, labelled), oneHot], [n, k, h, w]);
  const scale = g.op('Div', [weights, normaliser], [n, 1, h, w]);
  return { loss, gradient: g.mul(residual, scale) };
}
