/**
 * Test-time augmentation's symmetries of the square as plain values and index maps,
 * apart from tfjs (augmentation.ts applies them as tensor ops) so that ONNX Runtime's
 * predictor (engines/onnx-session.ts) runs where tfjs is not loaded: a page.
 */

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
