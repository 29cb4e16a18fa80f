/**
 * Connected components of a binary image, the instances of a binary label.
 */
import { makeImage, type Image } from '../image/image.js';

/** Edge neighbours first, then corners. */
const DY = [-1, 1, 0, 0, -1, -1, 1, 1];
const DX = [0, 0, -1, 1, -1, 1, -1, 1];

/** `4`: pixels sharing an edge are connected; `8`: sharing an edge or a corner. */
export type Connectivity = 4 | 8;

export interface Components {
  /** Component id per pixel, 1 ... count in raster order of their first pixel; 0 = background. */
  readonly labels: Int32Array;
  readonly count: number;
}

/**
 * Labels the connected components of the nonzero pixels, by flood fill with an
 * explicit stack (no recursion, so a 10k x 10k blob is fine), O(W H).
 *
 * @param connectivity @default 4
 */
export function connectedComponents(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  connectivity: Connectivity = 4,
): Components {
  const labels = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const neighbours = connectivity === 8 ? 8 : 4;
  let count = 0;
  for (let start = 0; start < labels.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const id = ++count;
    labels[start] = id;
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const p = stack[--top];
      const y = (p / width) | 0;
      const x = p - y * width;
      for (let n = 0; n < neighbours; n++) {
        const ny = y + DY[n];
        const nx = x + DX[n];
        if (ny < 0 || ny >= height || nx < 0 || nx >= width) continue;
        const q = ny * width + nx;
        // Labelled when pushed, so each pixel enters the stack once.
        if (mask[q] !== 0 && labels[q] === 0) {
          labels[q] = id;
          stack[top++] = q;
        }
      }
    }
  }
  return { labels, count };
}

/** Object ids 0..count (0 = background) as a 16-bit instance image; more than 65535 objects do not fit. */
export function instanceImage(ids: ArrayLike<number>, count: number, width: number, height: number): Image<'uint16'> {
  if (count > 65535) throw new Error(`${count} objects do not fit a 16-bit instance image (at most 65535)`);
  return makeImage(width, height, 1, 'uint16', Uint16Array.from(ids));
}
