/**
 * Simple points of a binary image with 4-connected foreground and 8-connected
 * background: pixels whose flip changes no topology (no object or hole appears,
 * vanishes, splits or merges). Bertrand & Malandain (1994): p is simple iff T4(p, X) = 1
 * and T8(p, X̄) = 1, the numbers of foreground 4-components (geodesic, touching p's
 * 4-neighbours) and background 8-components in p's 8-neighbourhood.
 */

/** Neighbour offsets in cyclic order around p, starting top left: NW N NE E SE S SW W. */
export const RING_DX = [-1, 0, 1, 1, 1, 0, -1, -1] as const;
export const RING_DY = [-1, -1, -1, 0, 1, 1, 1, 0] as const;

const fg = (code: number, k: number) => ((code >> (k & 7)) & 1) === 1;

/** T4: runs of foreground around the ring (consecutive ring cells are 4-adjacent) holding an edge neighbour. */
function foregroundComponents(code: number): number {
  if (code === 255) return 1;
  let count = 0;
  for (let start = 0; start < 8; start++) {
    // A run starts where foreground follows background.
    if (!fg(code, start) || fg(code, start + 7)) continue;
    let hasEdge = false;
    for (let k = start; fg(code, k) && k < start + 8; k++) if ((k & 1) === 1) hasEdge = true;
    if (hasEdge) count++;
  }
  return count;
}

/** T8: background components of the ring, where edge neighbours two steps apart (across a corner) also touch. */
function backgroundComponents(code: number): number {
  const parent = [0, 1, 2, 3, 4, 5, 6, 7];
  const find = (k: number): number => (parent[k] === k ? k : (parent[k] = find(parent[k])));
  const join = (a: number, b: number) => void (parent[find(a)] = find(b));
  for (let k = 0; k < 8; k++) {
    if (fg(code, k)) continue;
    if (!fg(code, k + 1)) join(k, (k + 1) & 7);
    if ((k & 1) === 1 && !fg(code, k + 2)) join(k, (k + 2) & 7);
  }
  const roots = new Set<number>();
  for (let k = 0; k < 8; k++) if (!fg(code, k)) roots.add(find(k));
  return roots.size;
}

/** Whether the pixel with this 8-neighbourhood (bit k set = ring position k is foreground) is simple. */
export const SIMPLE: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let code = 0; code < 256; code++) table[code] = foregroundComponents(code) === 1 && backgroundComponents(code) === 1 ? 1 : 0;
  return table;
})();

/** The ring code of pixel (x, y); pixels outside the image are background. */
export function ringCode(image: Uint8Array, width: number, height: number, x: number, y: number): number {
  let code = 0;
  for (let k = 0; k < 8; k++) {
    const nx = x + RING_DX[k];
    const ny = y + RING_DY[k];
    if (nx >= 0 && nx < width && ny >= 0 && ny < height && image[ny * width + nx] !== 0) code |= 1 << k;
  }
  return code;
}
