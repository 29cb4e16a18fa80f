/**
 * Exact Euclidean distances between pixel centres (unit spacing) — not chamfer, not
 * city-block. Both transforms here are separable: a pass down each column finds the
 * vertical distance to the nearest site in that column, and the row pass combines
 * columns, since |p - s|² = (x - x')² + (y - y')².
 */

/** Squared distances larger than any an image can hold; finite, so that sums never make NaN. */
const FAR = 1e30;

/**
 * Squared Euclidean distance from every pixel to the nearest site (a nonzero value of
 * `sites`), by Felzenszwalb & Huttenlocher's lower envelope of parabolas, O(W H).
 * Without any site every value is Infinity. Equivalent to
 * scipy.ndimage.distance_transform_edt(sites == 0) ** 2.
 */
export function squaredDistanceTransform(sites: ArrayLike<number>, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  let any = false;
  for (let i = 0; i < out.length; i++) {
    const site = sites[i] !== 0;
    out[i] = site ? 0 : FAR;
    any ||= site;
  }
  if (!any) return out.fill(Infinity);
  const env = new Envelope(Math.max(width, height));
  const line = (start: number, stride: number, n: number) => {
    let count = 0;
    for (let i = 0; i < n; i++) {
      const value = out[start + i * stride];
      if (value < FAR) env.add(i, value, count++);
    }
    if (count === 0) return; // a column without sites stays FAR for the row pass
    env.build(count);
    for (let i = 0, k = 0; i < n; i++) {
      k = env.advance(k, i);
      out[start + i * stride] = env.value(k, i);
    }
  };
  for (let x = 0; x < width; x++) line(x, width, height);
  for (let y = 0; y < height; y++) line(y * width, 1, width);
  return out;
}

/**
 * The lower envelope of parabolas (x - pos)² + f (Felzenszwalb & Huttenlocher 2012),
 * on reusable buffers: add the parabolas in increasing `pos`, build, then walk x
 * upwards with `advance`.
 */
class Envelope {
  readonly pos: Float64Array;
  readonly f: Float64Array;
  /** Per parabola added: a caller's tag (here the instance id). */
  readonly tag: Int32Array;
  private readonly v: Int32Array;
  private readonly z: Float64Array;

  constructor(capacity: number) {
    this.pos = new Float64Array(capacity);
    this.f = new Float64Array(capacity);
    this.tag = new Int32Array(capacity);
    this.v = new Int32Array(capacity);
    this.z = new Float64Array(capacity + 1);
  }

  add(pos: number, f: number, at: number, tag = 0): void {
    this.pos[at] = pos;
    this.f[at] = f;
    this.tag[at] = tag;
  }

  build(count: number): void {
    const { pos, f, v, z } = this;
    let k = 0;
    v[0] = 0;
    z[0] = -Infinity;
    z[1] = Infinity;
    for (let q = 1; q < count; q++) {
      const cq = f[q] + pos[q] * pos[q];
      let s = 0;
      for (;;) {
        const p = v[k];
        s = (cq - (f[p] + pos[p] * pos[p])) / (2 * (pos[q] - pos[p]));
        if (s <= z[k] && k > 0) k--;
        else break;
      }
      if (s <= z[k]) {
        // Only when k = 0: the new parabola is lower wherever the old one was.
        v[0] = q;
        continue;
      }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = Infinity;
    }
  }

  /** The envelope segment holding x, searching on from segment k (x never decreases). */
  advance(k: number, x: number): number {
    while (this.z[k + 1] < x) k++;
    return k;
  }

  /** Which parabola segment k is. */
  at(k: number): number {
    return this.v[k];
  }

  value(k: number, x: number): number {
    const p = this.v[k];
    const d = x - this.pos[p];
    return d * d + this.f[p];
  }
}

export interface NearestTwo {
  /** Distance to the nearest instance (0 on an instance's own pixels). */
  readonly d1: Float64Array;
  /** Distance to the nearest pixel of any other instance than the nearest one. */
  readonly d2: Float64Array;
}

/**
 * For each pixel, the exact distances to the nearest and to the second-nearest
 * instance (`instances`: 0 = none, any other value an instance id), i.e. the two
 * smallest of the per-instance distance transforms, without computing them all.
 *
 * Per column, it keeps the nearest site and the nearest site of another instance
 * (enough for any pixel: whichever instance it must exclude, one of the two is the
 * column's best). A pixel's row pass then scans columns outward and stops once the
 * horizontal offset alone exceeds its second distance, so the work per pixel grows
 * with d2, not with the image or the number of instances.
 *
 * Fewer than two instances: d2 is Infinity (and d1 too without any). Only pixels
 * with `want[i] !== 0` are computed when `want` is given; the others are NaN.
 */
export function nearestTwo(instances: ArrayLike<number>, width: number, height: number, want?: ArrayLike<number>): NearestTwo {
  const size = width * height;
  const columns = columnPass(instances, width, height);
  const d1 = new Float64Array(size).fill(NaN);
  const d2 = new Float64Array(size).fill(NaN);
  const env = new Envelope(width);
  const first = new Float64Array(width);
  const nearest = new Int32Array(width);
  const second = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    if (want && !anyWanted(want, row, row + width)) continue;
    // d1 and the nearest instance: the envelope of every column's nearest site.
    let count = 0;
    for (let x = 0; x < width; x++) {
      const q = (row + x) * 4;
      if (columns[q + 1] !== 0) env.add(x, columns[q], count++, columns[q + 1]);
    }
    if (count === 0) {
      // No instance at all.
      for (let x = 0; x < width; x++) if (!want || want[row + x] !== 0) d1[row + x] = d2[row + x] = Infinity;
      continue;
    }
    env.build(count);
    for (let x = 0, k = 0; x < width; x++) {
      k = env.advance(k, x);
      first[x] = env.value(k, x);
      nearest[x] = env.tag[env.at(k)];
    }
    // d2 per run of pixels sharing their nearest instance L: the envelope of the
    // sites of every other instance, over the columns that can matter.
    for (let a = 0; a < width; ) {
      const label = nearest[a];
      let b = a;
      while (b + 1 < width && nearest[b + 1] === label) b++;
      if (!want || anyWanted(want, row + a, row + b + 1)) secondInRun(columns, row, width, a, b, label, env, second);
      a = b + 1;
    }
    for (let x = 0; x < width; x++) {
      const p = row + x;
      if (want && want[p] === 0) continue;
      d1[p] = Math.sqrt(first[x]);
      d2[p] = second[x] >= FAR ? Infinity : Math.sqrt(second[x]);
    }
  }
  return { d1, d2 };
}

function anyWanted(want: ArrayLike<number>, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (want[i] !== 0) return true;
  return false;
}

/** Runs up to this long are scanned pixel by pixel; longer ones get an envelope. */
const SHORT_RUN = 4;

/**
 * Squared d2 for pixels a ... b of a row, all nearest to instance `label`, into
 * `second`. d2 is 1-Lipschitz, so with r(x) = d2 at the run's ends, only columns in
 * [a - r(a), b + r(b)] can hold a pixel's second-nearest site.
 */
function secondInRun(
  columns: Int32Array,
  row: number,
  width: number,
  a: number,
  b: number,
  label: number,
  env: Envelope,
  second: Float64Array,
): void {
  if (b - a < SHORT_RUN) {
    for (let x = a; x <= b; x++) second[x] = scanSecond(columns, row, width, x);
    return;
  }
  const ra = scanSecond(columns, row, width, a);
  const rb = scanSecond(columns, row, width, b);
  const lo = ra >= FAR ? 0 : Math.max(0, a - Math.ceil(Math.sqrt(ra)));
  const hi = rb >= FAR ? width - 1 : Math.min(width - 1, b + Math.ceil(Math.sqrt(rb)));
  let count = 0;
  for (let x = lo; x <= hi; x++) {
    const q = (row + x) * 4;
    // The column's nearest site unless it is of `label`; then its nearest of another instance.
    const e = columns[q + 1] === label ? 2 : 0;
    if (columns[q + e + 1] !== 0) env.add(x, columns[q + e], count++);
  }
  if (count === 0) {
    second.fill(FAR, a, b + 1);
    return;
  }
  env.build(count);
  for (let x = a, k = 0; x <= b; x++) {
    k = env.advance(k, x);
    second[x] = env.value(k, x);
  }
}

/**
 * Squared distance to the second-nearest instance of pixel x, by scanning columns
 * outward until the horizontal offset alone exceeds it: O(d2). FAR when there is none.
 */
function scanSecond(columns: Int32Array, row: number, width: number, x: number): number {
  let b1 = FAR;
  let i1 = 0;
  let b2 = FAR;
  for (let k = 0; k * k < b2; k++) {
    const left = x - k;
    const right = x + k;
    if (left < 0 && right >= width) break;
    // The left column, then (k > 0) the right one.
    for (let col = left >= 0 ? left : right; col <= right && col < width; col += k === 0 ? width : 2 * k) {
      const q = (row + col) * 4;
      for (let e = 0; e < 4; e += 2) {
        const id = columns[q + e + 1];
        if (id === 0) break;
        const dd = k * k + columns[q + e];
        if (id === i1) {
          if (dd < b1) b1 = dd;
        } else if (dd < b1) {
          b2 = b1;
          b1 = dd;
          i1 = id;
        } else if (dd < b2) {
          b2 = dd;
        }
      }
    }
  }
  return b2;
}

/**
 * Per pixel, four int32: squared vertical distance to the nearest site in its column,
 * that site's instance, then the same for the nearest site of another instance
 * (instance 0 = none). The nearest above and below, and the nearest of another
 * instance above and below, are the only candidates: two scans per column.
 */
function columnPass(instances: ArrayLike<number>, width: number, height: number): Int32Array {
  if (height > 46340) throw new RangeError(`images taller than 46340 px are not supported by the distance transform, got ${height}`);
  const out = new Int32Array(width * height * 4);
  // Nearest site at or above each row (row, id), and the nearest above it of another id.
  const up = new Int32Array(height * 4);
  for (let x = 0; x < width; x++) {
    let a = 0;
    let aId = 0;
    let b = 0;
    let bId = 0;
    for (let y = 0; y < height; y++) {
      const id = instances[y * width + x];
      if (id !== 0) {
        if (id !== aId) {
          b = a;
          bId = aId;
        }
        a = y;
        aId = id;
      }
      up[y * 4] = a;
      up[y * 4 + 1] = aId;
      up[y * 4 + 2] = b;
      up[y * 4 + 3] = bId;
    }
    let c = 0;
    let cId = 0;
    let d = 0;
    let dId = 0;
    for (let y = height - 1; y >= 0; y--) {
      const id = instances[y * width + x];
      if (id !== 0) {
        if (id !== cId) {
          d = c;
          dId = cId;
        }
        c = y;
        cId = id;
      }
      let t1 = FAR;
      let j1 = 0;
      let t2 = FAR;
      let j2 = 0;
      for (let e = 0; e < 4; e++) {
        const candidate = e === 0 ? up[y * 4 + 1] : e === 1 ? up[y * 4 + 3] : e === 2 ? cId : dId;
        if (candidate === 0) continue;
        const at = e === 0 ? up[y * 4] : e === 1 ? up[y * 4 + 2] : e === 2 ? c : d;
        const dd = (y - at) * (y - at);
        if (candidate === j1) {
          if (dd < t1) t1 = dd;
        } else if (dd < t1) {
          t2 = t1;
          j2 = j1;
          t1 = dd;
          j1 = candidate;
        } else if (dd < t2) {
          t2 = dd;
          j2 = candidate;
        }
      }
      const p = (y * width + x) * 4;
      out[p] = j1 === 0 ? 0 : t1;
      out[p + 1] = j1;
      out[p + 2] = j2 === 0 ? 0 : t2;
      out[p + 3] = j2;
    }
  }
  return out;
}
