/**
 * Test-time augmentation: the symmetries of the square a tile is seen through. Tiles
 * are square, so all eight map a tile onto itself and (for a valid network) its
 * centred output. inference/predict.ts applies them as tensor ops, ONNX Runtime as an
 * index map (symmetry.ts, engines/onnx-session.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Symmetry } from './symmetry.js';

export { symmetries, symmetryIndex, type Augmentation, type Symmetry } from './symmetry.js';

// Applying flips then a transpose; the inverse is the transpose then the same flips.
export function forward(x: tf.Tensor4D, s: Symmetry): tf.Tensor4D {
  const axes = [...(s.flipY ? [1] : []), ...(s.flipX ? [2] : [])];
  let y = axes.length ? tf.reverse(x, axes) : x;
  if (s.transpose) y = tf.transpose(y, [0, 2, 1, 3]);
  return y;
}

export function inverse(y: tf.Tensor4D, s: Symmetry): tf.Tensor4D {
  let x = s.transpose ? tf.transpose(y, [0, 2, 1, 3]) : y;
  const axes = [...(s.flipY ? [1] : []), ...(s.flipX ? [2] : [])];
  if (axes.length) x = tf.reverse(x, axes);
  return x;
}
