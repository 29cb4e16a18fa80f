/**
 * The paper's energy: a pixel-wise softmax over the K class logits, combined with
 * cross-entropy and weighted per pixel by the weight map w(x) (eq. 1):
 *   E = -Σ_x w(x) log p_{l(x)}(x)
 * divided here by a normaliser (by default the number of pixels, so the loss is a
 * per-pixel mean and comparable across tile and batch sizes).
 */
import * as tf from '@tensorflow/tfjs';

export interface LossOptions {
  /**
   * What the weighted sum is divided by. A batch split across workers passes the
   * whole batch's pixel count, so that the workers' gradients simply add up.
   * @default the number of pixels in `labels`
   */
  readonly normaliser?: number;
}

/**
 * Weighted softmax cross-entropy of logits [N, H, W, K] against class indices
 * [N, H, W] (int32), weighted by `weights` [N, H, W] (all 1 when absent). Call inside
 * tf.tidy (or a gradient function).
 */
export function weightedCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D, weights?: tf.Tensor3D, options: LossOptions = {}): tf.Scalar {
  const k = logits.shape[3];
  const [n, h, w] = logits.shape;
  if (labels.shape.join('x') !== [n, h, w].join('x')) {
    throw new RangeError(`loss: labels are [${labels.shape}], the network output is [${n},${h},${w}]`);
  }
  if (weights && weights.shape.join('x') !== labels.shape.join('x')) {
    throw new RangeError(`loss: weights are [${weights.shape}], labels are [${labels.shape}]`);
  }
  const logP = tf.logSoftmax(logits);
  // -log p of the true class per pixel: one-hot mask summed over classes.
  const nll = tf.neg(tf.sum(tf.mul(logP, tf.oneHot(labels, k)), 3));
  const weighted = weights ? tf.mul(nll, weights) : nll;
  return tf.div(tf.sum(weighted), options.normaliser ?? n * h * w) as tf.Scalar;
}
