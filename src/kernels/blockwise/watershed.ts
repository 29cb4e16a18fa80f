/**
 * The seeded watershed of a plane too large to hold, object by object: the flood only
 * ever runs through foreground (p >= at, 4-connected), so each foreground component is
 * flooded on its own, over its bounding box, with the rest of the box masked out. The
 * relative order in which the whole-image flood visits a component's pixels is the
 * same (its cores are found in raster order, and a FIFO bucket queue keeps the order of
 * what it holds when other components' pixels are taken out), so the result equals
 * seededWatershed's exactly, numbered in raster order of each object's first pixel.
 * Memory: one block for the components, then one component's box at a time.
 */
import { seededWatershed, type WatershedOptions } from '../watershed.js';
import { blockwiseComponents } from './components.js';
import { type LabelSink, type PlaneSource, type Region } from './region.js';

export interface BlockwiseWatershedOptions extends Omit<WatershedOptions, 'channels' | 'channel'> {
  /** Side of the square blocks read to find the foreground components. */
  readonly block: number;
}

/** Floods `probability` (one value per pixel) into `sink`; returns the number of objects. */
export async function blockwiseWatershed(probability: PlaneSource, sink: LabelSink, options: BlockwiseWatershedOptions): Promise<number> {
  const { block, at, ...flood } = options;
  const foreground: PlaneSource = {
    width: probability.width,
    height: probability.height,
    read: async (r) => Uint8Array.from(await probability.read(r), (p) => (p >= at ? 1 : 0)),
  };
  const { objects: components } = await blockwiseComponents(foreground, { block, connectivity: 4 });

  /** Each component flooded in its box: local ids, and each object's first pixel in the plane. */
  const floodComponent = async ({ first, box }: { first: number; box: Region }) => {
    const values = Float64Array.from(await probability.read(box));
    // The component is the one 4-connected foreground region of its box holding its first pixel.
    const start = (Math.floor(first / probability.width) - box.y) * box.width + (first % probability.width) - box.x;
    const inComponent = regionOf(values, box.width, box.height, start, at);
    for (let i = 0; i < values.length; i++) if (!inComponent[i]) values[i] = -1;
    const { labels, count } = seededWatershed(values, box.width, box.height, { at, ...flood });
    const firsts = new Array<number>(count).fill(-1);
    for (let i = 0; i < labels.length; i++) {
      const id = labels[i];
      if (id !== 0 && firsts[id - 1] < 0) firsts[id - 1] = (box.y + Math.floor(i / box.width)) * probability.width + box.x + (i % box.width);
    }
    return { labels, firsts };
  };

  // First pass: every object's first pixel, to number them as the whole-image flood does.
  const firsts: number[] = [];
  for (const component of components) firsts.push(...(await floodComponent(component)).firsts);
  const rank = new Map([...firsts].sort((a, b) => a - b).map((f, i) => [f, i + 1]));
  // Second pass: the labels, in the plane's numbering.
  for (const component of components) {
    const { labels, firsts: own } = await floodComponent(component);
    for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) labels[i] = rank.get(own[labels[i] - 1])!;
    await sink.write(component.box, labels);
  }
  return firsts.length;
}

/** The 4-connected region of values >= at holding `start`. */
function regionOf(values: ArrayLike<number>, width: number, height: number, start: number, at: number): Uint8Array {
  const inside = new Uint8Array(values.length);
  const stack = [start];
  inside[start] = 1;
  while (stack.length) {
    const i = stack.pop()!;
    const [y, x] = [Math.floor(i / width), i % width];
    for (const [ny, nx] of [[y - 1, x], [y + 1, x], [y, x - 1], [y, x + 1]]) {
      const j = ny * width + nx;
      if (ny >= 0 && ny < height && nx >= 0 && nx < width && !inside[j] && values[j] >= at) {
        inside[j] = 1;
        stack.push(j);
      }
    }
  }
  return inside;
}
