/**
 * The warping error of Jain et al. (2010), as Fiji's Trainable_Segmentation computes it
 * (`WarpingError.simplePointWarp2d`, `classifyMismatches2d`, `clusterMismatchesByError`):
 * the ground truth is warped toward the prediction by flipping only simple points
 * (4-connected foreground, 8-connected background; outside the image is background), so
 * its topology never changes; what still differs afterwards are topological mistakes.
 */
import { connectedComponents } from '../components.js';
import { binaryWhere } from './foreground.js';
import { RING_DX, RING_DY, SIMPLE, ringCode } from './simple-point.js';

export interface WarpingResult {
  /** Remaining mismatches / all pixels. */
  readonly error: number;
  /** Pixels that still differ after warping. */
  readonly mismatches: number;
  /** Mistakes where the prediction cuts a true segment: 4-connected groups of split pixels. */
  readonly splits: number;
  /** Mistakes where the prediction joins true segments: 8-connected groups of merge pixels. */
  readonly merges: number;
  readonly splitPixels: number;
  readonly mergePixels: number;
  /** The warped truth (0/1). */
  readonly warped: Uint8Array;
}

/**
 * Flips simple points of `source` where it differs from `target`, pass after pass, until a
 * pass flips nothing. Each pass visits the mismatches column by column (x outer, y inner)
 * and flips in place, as Fiji does; where flips compete, that order decides.
 */
export function simplePointWarp(source: ArrayLike<number>, target: ArrayLike<number>, width: number, height: number): Uint8Array {
  const warped = binaryWhere(source, (v) => v !== 0);
  const goal = binaryWhere(target, (v) => v !== 0);
  let pending: number[] = [];
  for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) if (warped[y * width + x] !== goal[y * width + x]) pending.push(y * width + x);
  for (;;) {
    let flipped = 0;
    for (const i of pending) {
      const y = (i / width) | 0;
      if (SIMPLE[ringCode(warped, width, height, i - y * width, y)]) {
        warped[i] ^= 1;
        flipped++;
      }
    }
    if (flipped === 0) break;
    // Matched pixels never flip again, so the next pass needs only what still differs, in the same order.
    pending = pending.filter((i) => warped[i] !== goal[i]);
  }
  return warped;
}

/** @param truth, prediction binary masks (nonzero = foreground), width * height each */
export function warpingError(truth: ArrayLike<number>, prediction: ArrayLike<number>, width: number, height: number): WarpingResult {
  if (truth.length !== width * height || prediction.length !== width * height) {
    throw new RangeError(`masks must have ${width}x${height} pixels, got ${truth.length} and ${prediction.length}`);
  }
  const warped = simplePointWarp(truth, prediction, width, height);
  const { labels } = connectedComponents(warped, width, height, 4);
  const splitMask = new Uint8Array(width * height);
  const mergeMask = new Uint8Array(width * height);
  const reach = new Reach(warped, width, height);
  let mismatches = 0;
  for (let i = 0; i < warped.length; i++) {
    if (warped[i] === (prediction[i] !== 0 ? 1 : 0)) continue;
    mismatches++;
    const kind = classify(labels, warped, reach, width, height, i);
    if (kind === 'split') splitMask[i] = 1;
    else if (kind === 'merge') mergeMask[i] = 1;
  }
  let splitPixels = 0;
  let mergePixels = 0;
  for (let i = 0; i < warped.length; i++) {
    splitPixels += splitMask[i];
    mergePixels += mergeMask[i];
  }
  return {
    error: mismatches / (width * height),
    mismatches,
    splits: connectedComponents(splitMask, width, height, 4).count,
    merges: connectedComponents(mergeMask, width, height, 8).count,
    splitPixels,
    mergePixels,
    warped,
  };
}

type Mistake = 'split' | 'merge' | 'other';

/**
 * Fiji's rule, from the labels (warped truth's segments, 0 = background) among the 8
 * neighbours inside the image: three or more labels around a background pixel is a merge,
 * around a foreground pixel a split; two labels around a foreground pixel is a split when
 * removing the pixel disconnects its neighbours. Everything else adds or removes an object
 * or a hole.
 */
function classify(labels: Int32Array, warped: Uint8Array, reach: Reach, width: number, height: number, i: number): Mistake {
  const y = (i / width) | 0;
  const x = i - y * width;
  const ids = new Set<number>();
  for (let k = 0; k < 8; k++) {
    const nx = x + RING_DX[k];
    const ny = y + RING_DY[k];
    if (nx >= 0 && nx < width && ny >= 0 && ny < height) ids.add(labels[ny * width + nx]);
  }
  if (ids.size === 1) return 'other'; // object or hole added or removed
  if (ids.size === 2) {
    // Background and one segment: only a foreground pixel that holds the segment together is a split.
    return warped[i] === 1 && reach.disconnectsNeighbours(x, y) ? 'split' : 'other';
  }
  return warped[i] === 0 ? 'merge' : 'split';
}

/** Whether removing a foreground pixel cuts its foreground neighbours apart, by flood fill around it. */
class Reach {
  private readonly seen: Int32Array;
  private readonly stack: Int32Array;
  private stamp = 0;

  constructor(
    private readonly image: Uint8Array,
    private readonly width: number,
    private readonly height: number,
  ) {
    this.seen = new Int32Array(width * height);
    this.stack = new Int32Array(width * height);
  }

  disconnectsNeighbours(x: number, y: number): boolean {
    const { image, width, height } = this;
    // Foreground neighbours in runs around the ring; one run stays connected without (x, y).
    const neighbours: number[] = [];
    let runs = 0;
    let previous = false;
    let first = false;
    for (let k = 0; k < 8; k++) {
      const nx = x + RING_DX[k];
      const ny = y + RING_DY[k];
      const on = nx >= 0 && nx < width && ny >= 0 && ny < height && image[ny * width + nx] === 1;
      if (on) {
        neighbours.push(ny * width + nx);
        if (!previous) runs++;
      }
      if (k === 0) first = on;
      previous = on;
    }
    if (previous && first && runs > 1) runs--; // the run through position 0 wraps around
    if (runs <= 1) return false;

    const stamp = ++this.stamp;
    const { seen, stack } = this;
    seen[y * width + x] = stamp; // the removed pixel
    let top = 0;
    stack[top++] = neighbours[0];
    seen[neighbours[0]] = stamp;
    let found = 1;
    const targets = new Set(neighbours.slice(1));
    while (top > 0 && found < neighbours.length) {
      const p = stack[--top];
      const py = (p / width) | 0;
      const px = p - py * width;
      for (let k = 1; k < 8; k += 2) {
        const nx = px + RING_DX[k];
        const ny = py + RING_DY[k];
        if (nx < 0 || nx >= width || ny < 0 || ny >= height) continue;
        const q = ny * width + nx;
        if (image[q] !== 1 || seen[q] === stamp) continue;
        seen[q] = stamp;
        if (targets.has(q)) found++;
        stack[top++] = q;
      }
    }
    return found < neighbours.length;
  }
}
