/**
 * How a truth or prediction file is read as a binary foreground (`unetflow evaluate`):
 * a binary mask, instance labels or grey levels, told apart by their values, with a
 * warning naming the file where the reading is a guess (docs/metrics.md).
 */
import { dtypeMax, requireChannels, type Image } from '../../image/image.js';
import { binaryWhere, foregroundAbove } from './foreground.js';

/** Foreground pixels of a mask file, and a warning (naming the file) when the reading is a guess. */
interface Reading {
  readonly foreground: Uint8Array;
  readonly warning?: string;
}

/** With this many nonzero values or fewer, grey levels are more likely class indices or a trimap. */
const FEW_LEVELS = 8;

/**
 * Reads a truth or prediction image as a binary foreground, by its convention:
 * - at most one value besides 0 (0/1, 0/255, 0/65535 masks): the nonzero pixels;
 * - instance labels (integer ids, each id about one region of several pixels): the nonzero pixels;
 * - anything else is grey levels (probabilities, lossy masks): values above half the dtype's
 *   range (127, 32767, 0.5 for float); an integer image with no value above that, above half
 *   its own maximum.
 * A warning says what was done where the convention is a guess: instance labels with just
 * two ids either side of half the range, few grey levels, grey levels without a value above
 * half the range, and any grey-level truth (a label should be a mask or instance ids).
 * `threshold` (a prediction's `--threshold`) overrides all of it: values above it.
 */
export function readForeground(image: Image, role: 'truth' | 'prediction', file: string, threshold?: number): Reading {
  requireChannels(image, 1, `the ${role} ${file}`);
  const { data, width } = image;
  if (threshold !== undefined) return { foreground: foregroundAbove(image, threshold, `the ${role} ${file}`) };
  const levels = new Set<number>();
  let integer = true;
  let max = -Infinity;
  let nonzero = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== 0) {
      levels.add(v);
      nonzero++;
    }
    if (v > max) max = v;
    if (integer && !Number.isInteger(v)) integer = false;
  }
  const values = [...levels].sort((a, b) => a - b);
  const nonzeroPixels = () => binaryWhere(data, (v) => v !== 0);
  if (levels.size <= 1) return { foreground: nonzeroPixels() };
  const half = image.dtype === 'float32' ? 0.5 : Math.floor(dtypeMax[image.dtype] / 2);
  const warn = (what: string, rule: string) => {
    const fix = role === 'prediction' ? 'pass --threshold to choose' : 'save the truth as a mask or as instance labels';
    return `${file}: ${what}: read as ${rule} (${fix})`;
  };
  if (integer && looksLikeInstances(data, width, levels.size, nonzero)) {
    // Two ids either side of half the range may as well be a mask with two foreground levels.
    const split = values.length === 2 && values[0] <= half && values[1] > half;
    const warning = split ? warn(`two values besides 0 (${values.join(', ')}), each about one region`, 'instance labels, foreground = every nonzero pixel') : undefined;
    return { foreground: nonzeroPixels(), warning };
  }
  let at = half;
  let warning: string | undefined;
  if (image.dtype !== 'float32' && max <= half) {
    at = max / 2;
    warning = warn(`no value is above ${half}, half the ${image.dtype} range`, `grey levels, foreground = values above ${at}, half the image's maximum`);
  } else if (role === 'truth' || (levels.size <= FEW_LEVELS && values[0] <= at)) {
    const shown = levels.size <= FEW_LEVELS ? ` (${values.join(', ')})` : '';
    warning = warn(`${levels.size} values besides 0${shown}, neither a binary mask nor instance labels`, `grey levels, foreground = values above ${at}`);
  }
  return { foreground: foregroundAbove(image, at, `the ${role} ${file}`), warning };
}

/**
 * Instance labels: every id forms about one 4-connected region (at most two on average:
 * ids cut by a crop, or labelled 8-connected) of four pixels or more on average. Grey
 * levels fail it: each level recurs in many small places. Stops counting once too many.
 */
function looksLikeInstances(data: ArrayLike<number>, width: number, ids: number, nonzero: number): boolean {
  const limit = Math.min(2 * ids, nonzero / 4);
  const seen = new Uint8Array(data.length);
  const stack = new Int32Array(data.length);
  let regions = 0;
  for (let start = 0; start < seen.length; start++) {
    const value = data[start];
    if (value === 0 || seen[start]) continue;
    if (++regions > limit) return false;
    seen[start] = 1;
    let top = 0;
    stack[top++] = start;
    const visit = (q: number) => {
      if (!seen[q] && data[q] === value) {
        seen[q] = 1;
        stack[top++] = q;
      }
    };
    while (top > 0) {
      const p = stack[--top];
      const x = p % width;
      if (p >= width) visit(p - width);
      if (p + width < seen.length) visit(p + width);
      if (x > 0) visit(p - 1);
      if (x < width - 1) visit(p + 1);
    }
  }
  return true;
}
