/**
 * Test-time augmentation: the symmetries of the square a tile is seen through. Tiles
 * are square, so all eight map a tile onto itself and (for a valid network) its
 * centred output. inference/predict.ts applies them as tensor ops, ONNX Runtime as an
 * index map (engines/onnxruntime.ts).
 */
import * as tf from '@tensorflow/tfjs';

/** `flips`: identity, horizontal, vertical, both (4 passes). `dihedral`: those and their transposes (8). */
export type Augmentation = 'none' | 'flips' | 'dihedral';

/** A symmetry of the square: flips of rows (Y) and / or columns (X), then optionally a transpose. */
export interface Symmetry {
  readonly flipY: boolean;
  readonly flipX: boolean;
  readonly transpose: boolean;
}

/** The passes of an augmentation, the identity first. */
export function symmetries(tta: Augmentation): Symmetry[] {
  const flips = tta === 'none' ? [[false, false]] : [[false, false], [false, true], [true, false], [true, true]];
  const transposes = tta === 'dihedral' ? [false, true] : [false];
  return transposes.flatMap((transpose) => flips.map(([flipY, flipX]) => ({ flipY, flipX, transpose })));
}

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

/**
 * `forward` as an index map, for engines that take plain arrays (ONNX Runtime): entry
 * i is the pixel (row-major index) of a rows x cols image that pixel i of its
 * transformed image shows. Gathering through it applies the symmetry; scattering an
 * output through it (made for the output's size) undoes it, as `inverse` does.
 */
export function symmetryIndex(s: Symmetry, rows: number, cols: number): Int32Array {
  if (s.transpose && rows !== cols) throw new RangeError(`a transposing augmentation needs square tiles, got ${rows}x${cols}`);
  const index = new Int32Array(rows * cols);
  // The transformed image has the original's size: transposes only happen to squares.
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const fy = s.transpose ? x : y;
      const fx = s.transpose ? y : x;
      index[y * cols + x] = (s.flipY ? rows - 1 - fy : fy) * cols + (s.flipX ? cols - 1 - fx : fx);
    }
  }
  return index;
}
