/**
 * Seeded watershed on a foreground probability map: objects grow from confident cores
 * instead of being the connected components of one threshold, so a faint gap in a
 * membrane no longer merges the two cells on either side of it.
 */

/** Probability levels of the flooding queue; ties within a level flood breadth-first. */
const LEVELS = 256;
const DY = [-1, 1, 0, 0];
const DX = [0, 0, -1, 1];

export interface WatershedOptions {
  /** Pixels with p >= `at` belong to some object (the foreground of a plain threshold). */
  readonly at: number;
  /** Connected regions of p >= `seeds` are the objects' cores. Must be >= `at`. */
  readonly seeds: number;
  /** Cores smaller than this many pixels do not start an object (noise). @default 1 */
  readonly minSeedArea?: number;
  /** Values per pixel in `probability`, interleaved (class probabilities, read in place). @default 1 */
  readonly channels?: number;
  /** Which of them is segmented. @default 0 */
  readonly channel?: number;
  /** Part touching objects by a 1 px background line, as `separateTouching` does. @default false */
  readonly separate?: boolean;
}

export interface Regions {
  /** Object id per pixel, 1 ... count; 0 = background. */
  readonly labels: Int32Array;
  readonly count: number;
}

const levelOf = (p: number) => Math.min(LEVELS - 1, Math.max(0, Math.floor(p * LEVELS)));

/**
 * Floods the foreground (p >= at) from the seeds, most probable pixels first (4-connected),
 * so each foreground pixel joins the core it reaches along the highest-probability
 * path. Foreground regions that hold no seed stay objects of their own: nothing a
 * threshold at `at` would keep is dropped. Ids are numbered in raster order.
 *
 * @param values probabilities in [0, 1]: `channels` per pixel, width * height pixels
 */
export function seededWatershed(values: ArrayLike<number>, width: number, height: number, options: WatershedOptions): Regions {
  const { at, seeds, minSeedArea = 1, channels = 1, channel = 0, separate = false } = options;
  const n = width * height;
  if (values.length !== n * channels) throw new RangeError(`watershed: ${values.length} values for ${width}x${height} pixels of ${channels}`);
  if (!(channel >= 0 && channel < channels)) throw new RangeError(`watershed: channel ${channel} of ${channels}`);
  if (!(seeds >= at)) throw new RangeError(`watershed: the seed threshold (${seeds}) must be at least the foreground threshold (${at})`);
  const probability = (i: number) => values[i * channels + channel];
  const inside = (i: number) => probability(i) >= at;
  // Object ids; -1 marks core pixels visited while looking for cores (reset to 0 once found).
  const labels = new Int32Array(n);
  // Bucket queue: one FIFO list per level, threaded through `next`.
  const next = new Int32Array(n).fill(-1);
  const head = new Int32Array(LEVELS).fill(-1);
  const tail = new Int32Array(LEVELS).fill(-1);
  const push = (i: number, level: number) => {
    if (tail[level] < 0) head[level] = i;
    else next[tail[level]] = i;
    tail[level] = i;
  };

  // Cores: 4-connected regions of p >= seeds that are large enough.
  const stack = new Int32Array(n);
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (probability(start) < seeds || labels[start] !== 0) continue;
    labels[start] = -1;
    let top = 0;
    let size = 0;
    stack[top++] = start;
    const members: number[] = [];
    while (top > 0) {
      const i = stack[--top];
      members.push(i);
      size++;
      forNeighbours(i, width, height, (j) => {
        if (labels[j] === 0 && probability(j) >= seeds) {
          labels[j] = -1;
          stack[top++] = j;
        }
      });
    }
    if (size < minSeedArea) continue;
    const id = ++count;
    for (const i of members) {
      labels[i] = id;
      push(i, levelOf(probability(i)));
    }
  }
  for (let i = 0; i < n; i++) if (labels[i] < 0) labels[i] = 0; // small cores: flooded like any foreground

  // Flood, never climbing above the level being processed, so a pixel is claimed by
  // the first core whose flood reaches it.
  for (let level = LEVELS - 1; level >= 0; level--) {
    while (head[level] >= 0) {
      const i = head[level];
      head[level] = next[i];
      if (head[level] < 0) tail[level] = -1;
      forNeighbours(i, width, height, (j) => {
        if (labels[j] !== 0 || !inside(j)) return;
        labels[j] = labels[i];
        push(j, Math.min(level, levelOf(probability(j))));
      });
    }
  }

  // Foreground that no core reached is an object of its own, one per connected region.
  for (let start = 0; start < n; start++) {
    if (labels[start] !== 0 || !inside(start)) continue;
    const id = ++count;
    labels[start] = id;
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      forNeighbours(stack[--top], width, height, (j) => {
        if (labels[j] === 0 && inside(j)) {
          labels[j] = id;
          stack[top++] = j;
        }
      });
    }
  }
  if (separate) separateInPlace(labels, width, height);
  return { labels, count: renumberInPlace(labels, count) };
}

/**
 * Cuts a 1 px background line between touching objects: of every 4-adjacent pair of
 * pixels with different nonzero ids, the one on the left / above is cleared, so the
 * objects are separate connected components of the foreground (as membranes separate
 * cells in a label) and a binary mask still tells them apart. Returns a new array.
 */
export function separateTouching(labels: Int32Array, width: number, height: number): Int32Array {
  const out = Int32Array.from(labels);
  separateInPlace(out, width, height);
  return out;
}

/** separateTouching over the array itself: a pixel depends only on itself and its right and lower neighbours, not yet visited in raster order. */
function separateInPlace(labels: Int32Array, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const id = labels[i];
      if (id === 0) continue;
      const right = x + 1 < width ? labels[i + 1] : 0;
      const below = y + 1 < height ? labels[i + width] : 0;
      if ((right !== 0 && right !== id) || (below !== 0 && below !== id)) labels[i] = 0;
    }
  }
}

function forNeighbours(i: number, width: number, height: number, visit: (j: number) => void): void {
  const y = Math.floor(i / width);
  const x = i - y * width;
  for (let d = 0; d < 4; d++) {
    const yy = y + DY[d];
    const xx = x + DX[d];
    if (yy >= 0 && yy < height && xx >= 0 && xx < width) visit(yy * width + xx);
  }
}

/** Ids 1..count in raster order of each object's first pixel, as connected components are numbered. */
export function renumberInRasterOrder(labels: Int32Array, count: number): Regions {
  const out = Int32Array.from(labels);
  return { labels: out, count: renumberInPlace(out, count) };
}

/** renumberInRasterOrder over the array itself (one the caller owns); returns the new count. */
function renumberInPlace(labels: Int32Array, count: number): number {
  const map = new Int32Array(count + 1);
  let next = 0;
  for (let i = 0; i < labels.length; i++) {
    const id = labels[i];
    if (id !== 0 && map[id] === 0) map[id] = ++next;
    labels[i] = map[id];
  }
  return next;
}
