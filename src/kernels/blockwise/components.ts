/**
 * Connected components of a plane too large to hold, block by block: each block is
 * labelled on its own, pieces that touch across a block border are merged (union-find
 * over the pieces, comparing each block's top row and left column with its neighbours'
 * last ones), and the objects are numbered in raster order of their first pixel, as
 * connectedComponents numbers them: the labels equal the whole-image ones exactly.
 * Memory: one block, a row of labels the width of the plane, and a few numbers a piece.
 */
import { connectedComponents, type Connectivity } from '../components.js';
import { blocks, type LabelSink, type PlaneSource, type Region } from './region.js';

export interface FoundObject {
  /** The object's first pixel in raster order, as y * width + x. */
  readonly first: number;
  /** Its bounding box. */
  readonly box: Region;
}

export interface BlockwiseComponents {
  readonly count: number;
  /** Object id - 1 to its first pixel and bounding box. */
  readonly objects: readonly FoundObject[];
}

export interface BlockwiseOptions {
  /** Side of the square blocks read at a time. */
  readonly block: number;
  /** @default 4 */
  readonly connectivity?: Connectivity;
  /** Where the labels go; without one only the objects are found. */
  readonly sink?: LabelSink;
}

/** Labels the nonzero pixels of `mask` (two passes over it when a sink takes the labels). */
export async function blockwiseComponents(mask: PlaneSource, options: BlockwiseOptions): Promise<BlockwiseComponents> {
  const { block, connectivity = 4, sink } = options;
  const { width } = mask;
  const parent: number[] = [];
  const first: number[] = [];
  const box: [number, number, number, number][] = []; // minX, minY, maxX, maxY
  const bases: number[] = [];
  const find = (p: number): number => {
    while (parent[p] !== p) p = parent[p] = parent[parent[p]];
    return p;
  };
  const union = (a: number, b: number) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const across = connectivity === 8 ? [-1, 0, 1] : [0];
  let above = new Int32Array(width).fill(-1);
  let below = new Int32Array(width).fill(-1);
  let left = new Int32Array(0);
  let rowY = -1;

  for (const r of blocks(mask.width, mask.height, block)) {
    if (r.y !== rowY) {
      if (rowY >= 0) [above, below] = [below, above];
      rowY = r.y;
      left = new Int32Array(r.height).fill(-1);
    }
    const { labels, count } = connectedComponents(await mask.read(r), r.width, r.height, connectivity);
    const base = parent.length;
    bases.push(base);
    for (let k = 0; k < count; k++) {
      parent.push(base + k);
      first.push(-1);
      box.push([Infinity, Infinity, -Infinity, -Infinity]);
    }
    for (let yy = 0; yy < r.height; yy++) {
      for (let xx = 0; xx < r.width; xx++) {
        const local = labels[yy * r.width + xx];
        if (local === 0) continue;
        const p = base + local - 1;
        const [gx, gy] = [r.x + xx, r.y + yy];
        // A block's raster order is the plane's, restricted to it: a piece's first pixel here is its first anywhere.
        if (first[p] < 0) first[p] = gy * width + gx;
        const b = box[p];
        b[0] = Math.min(b[0], gx);
        b[1] = Math.min(b[1], gy);
        b[2] = Math.max(b[2], gx);
        b[3] = Math.max(b[3], gy);
      }
    }
    if (r.y > 0) {
      for (let xx = 0; xx < r.width; xx++) {
        const local = labels[xx];
        if (local === 0) continue;
        for (const dx of across) {
          const gx = r.x + xx + dx;
          if (gx >= 0 && gx < width && above[gx] >= 0) union(base + local - 1, above[gx]);
        }
      }
    }
    if (r.x > 0) {
      for (let yy = 0; yy < r.height; yy++) {
        const local = labels[yy * r.width];
        if (local === 0) continue;
        for (const dy of across) if (yy + dy >= 0 && yy + dy < r.height && left[yy + dy] >= 0) union(base + local - 1, left[yy + dy]);
      }
    }
    for (let xx = 0; xx < r.width; xx++) {
      const local = labels[(r.height - 1) * r.width + xx];
      below[r.x + xx] = local === 0 ? -1 : base + local - 1;
    }
    for (let yy = 0; yy < r.height; yy++) {
      const local = labels[yy * r.width + r.width - 1];
      left[yy] = local === 0 ? -1 : base + local - 1;
    }
  }

  // Roots in raster order of their first pixel are ids 1, 2, ...
  const merged = new Map<number, { first: number; box: [number, number, number, number] }>();
  for (let p = 0; p < parent.length; p++) {
    const root = find(p);
    const m = merged.get(root);
    if (!m) merged.set(root, { first: first[p], box: [...box[p]] });
    else {
      m.first = Math.min(m.first, first[p]);
      m.box = [Math.min(m.box[0], box[p][0]), Math.min(m.box[1], box[p][1]), Math.max(m.box[2], box[p][2]), Math.max(m.box[3], box[p][3])];
    }
  }
  const roots = [...merged.entries()].sort((a, b) => a[1].first - b[1].first);
  const idOfRoot = new Map(roots.map(([root], i) => [root, i + 1]));
  const objects = roots.map(([, m]) => ({ first: m.first, box: { x: m.box[0], y: m.box[1], width: m.box[2] - m.box[0] + 1, height: m.box[3] - m.box[1] + 1 } }));

  if (sink) {
    let index = 0;
    for (const r of blocks(mask.width, mask.height, block)) {
      const base = bases[index++];
      const { labels } = connectedComponents(await mask.read(r), r.width, r.height, connectivity);
      for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) labels[i] = idOfRoot.get(find(base + labels[i] - 1))!;
      await sink.write(r, labels);
    }
  }
  return { count: objects.length, objects };
}
