/**
 * Class probabilities for batches of tiles, with optional test-time augmentation:
 * the network sees the tile flipped / rotated, each prediction is transformed back
 * and the softmax outputs are averaged. Tiles are square, so all eight symmetries of
 * the square map a tile onto itself and (for a valid network) its centred output.
 */
import * as tf from '@tensorflow/tfjs';
import type { UNet } from './unet.js';

/** `flips`: identity, horizontal, vertical, both (4 passes). `dihedral`: those and their transposes (8). */
export type Augmentation = 'none' | 'flips' | 'dihedral';

interface Symmetry {
  readonly flipY: boolean;
  readonly flipX: boolean;
  readonly transpose: boolean;
}

function symmetries(tta: Augmentation): Symmetry[] {
  const flips = tta === 'none' ? [[false, false]] : [[false, false], [false, true], [true, false], [true, true]];
  const transposes = tta === 'dihedral' ? [false, true] : [false];
  return transposes.flatMap((transpose) => flips.map(([flipY, flipX]) => ({ flipY, flipX, transpose })));
}

// Applying flips then a transpose; the inverse is the transpose then the same flips.
function forward(x: tf.Tensor4D, s: Symmetry): tf.Tensor4D {
  const axes = [...(s.flipY ? [1] : []), ...(s.flipX ? [2] : [])];
  let y = axes.length ? tf.reverse(x, axes) : x;
  if (s.transpose) y = tf.transpose(y, [0, 2, 1, 3]);
  return y;
}

function inverse(y: tf.Tensor4D, s: Symmetry): tf.Tensor4D {
  let x = s.transpose ? tf.transpose(y, [0, 2, 1, 3]) : y;
  const axes = [...(s.flipY ? [1] : []), ...(s.flipX ? [2] : [])];
  if (axes.length) x = tf.reverse(x, axes);
  return x;
}

/**
 * Softmax probabilities [N, out rows, out, K] (flattened, NHWC) for `count` tiles of
 * `inputSize` px given as float32 NHWC; tiles may be bands of `height` rows (square by
 * default; transposing augmentations need squares).
 */
export function predictProbabilities(
  model: UNet,
  images: Float32Array,
  count: number,
  inputSize: number,
  tta: Augmentation = 'none',
  height = inputSize,
): Float32Array {
  const c = model.config.inputChannels;
  if (images.length !== count * height * inputSize * c) {
    throw new RangeError(`predict: ${images.length} values for ${count} tiles of ${height}x${inputSize}x${c}`);
  }
  // Clear errors for impossible tile sizes.
  model.sizeMap(inputSize);
  model.sizeMap(height);
  if (tta === 'dihedral' && height !== inputSize) throw new RangeError(`dihedral augmentation needs square tiles, got ${height}x${inputSize}`);
  return tf.tidy(() => {
    const x = tf.tensor4d(images, [count, height, inputSize, c]);
    const passes = symmetries(tta);
    let sum: tf.Tensor4D | undefined;
    for (const s of passes) {
      const p = inverse(tf.softmax(model.apply(forward(x, s))) as tf.Tensor4D, s);
      sum = sum ? (tf.add(sum, p) as tf.Tensor4D) : p;
    }
    const mean = passes.length === 1 ? sum! : tf.div(sum!, passes.length);
    return mean.dataSync() as Float32Array;
  });
}
