/**
 * Random training tiles, drawn then cut: `drawTileWindows` holds all the randomness
 * (where each tile's output window lies, optionally centred on a foreground pixel);
 * `cutTrainingTile` is deterministic and cuts image, label and weights for one window
 * — the image at the network's input size around it (mirrored where it runs past the
 * border), label and weights at the output size, so they line up by construction.
 */
import { allocate, makeImage, type DType, type Image } from '../../image/image.js';
import { crop, mirrorIndex, type MirrorMode } from '../../kernels/mirror.js';
import type { Rng } from '../../random.js';

/** Top-left corner of a tile's output window in the image. */
export interface TileWindow {
  readonly y: number;
  readonly x: number;
  /** Whether the window was centred on a foreground pixel. */
  readonly foreground: boolean;
}

export interface DrawOptions {
  /** Output window size (px). */
  readonly output: number;
  readonly count: number;
  /** Fraction of windows centred on a random foreground pixel (label > 0). @default 0 */
  readonly foreground?: number;
}

/**
 * `count` output windows over a `width` x `height` image: uniform over the
 * positions where the window fits, or (with probability `foreground`, when the label
 * has foreground) centred on a uniformly drawn foreground pixel, clamped inside.
 * Along a side shorter than the window, the window covers the whole side and runs
 * past both borders by a random split (cutTrainingTile mirrors it there).
 */
export function drawTileWindows(rng: Rng, width: number, height: number, label: Image | undefined, options: DrawOptions): TileWindow[] {
  const { output: o, count } = options;
  // Corner positions [lo, hi] along each side: inside the image, or around it when it is shorter than the window.
  const [yLo, yHi, xLo, xHi] = [Math.min(0, height - o), Math.max(0, height - o), Math.min(0, width - o), Math.max(0, width - o)];
  const bias = options.foreground ?? 0;
  let fg: number[] | undefined;
  const windows: TileWindow[] = [];
  for (let k = 0; k < count; k++) {
    if (bias > 0 && label && rng.next() < bias) {
      fg ??= foregroundPixels(label);
      if (fg.length > 0) {
        const p = fg[rng.int(fg.length)];
        const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
        windows.push({ y: clamp(Math.floor(p / width) - (o >> 1), yLo, yHi), x: clamp((p % width) - (o >> 1), xLo, xHi), foreground: true });
        continue;
      }
    }
    windows.push({ y: yLo + rng.int(yHi - yLo + 1), x: xLo + rng.int(xHi - xLo + 1), foreground: false });
  }
  return windows;
}

function foregroundPixels(label: Image): number[] {
  const out: number[] = [];
  const c = label.channels;
  for (let i = 0; i < label.width * label.height; i++) if (label.data[i * c] > 0) out.push(i);
  return out;
}

export interface TrainingTile {
  readonly image: Image;
  readonly label?: Image;
  readonly weights?: Image<'float32'>;
}

/**
 * The tile of one window: image at `input` px centred on the output window (mirrored
 * past the border with `mode`), label and weights at the output size (mirrored alike
 * where the window runs past the border of an image smaller than it).
 */
export function cutTrainingTile(
  parts: TrainingTile,
  window: TileWindow,
  sizes: { readonly input: number; readonly output: number },
  mode: MirrorMode = 'reflect',
): TrainingTile {
  const { input, output } = sizes;
  const m = (input - output) / 2;
  return {
    image: mirroredCrop(parts.image, window.y - m, window.x - m, input, mode),
    ...(parts.label ? { label: mirroredCrop(parts.label, window.y, window.x, output, mode) } : {}),
    ...(parts.weights ? { weights: mirroredCrop(parts.weights, window.y, window.x, output, mode) } : {}),
  };
}

/** A size x size crop at (top, left) that may run past the border, mirrored there. */
export function mirroredCrop<D extends DType>(image: Image<D>, top: number, left: number, size: number, mode: MirrorMode): Image<D> {
  const { width, height, channels: c } = image;
  if (top >= 0 && left >= 0 && top + size <= height && left + size <= width) return crop(image, { x: left, y: top, width: size, height: size });
  const out = allocate(image.dtype, size * size * c);
  const cols = Array.from({ length: size }, (_, x) => mirrorIndex(left + x, width, mode));
  for (let y = 0; y < size; y++) {
    const row = mirrorIndex(top + y, height, mode) * width;
    for (let x = 0; x < size; x++) {
      const from = (row + cols[x]) * c;
      const to = (y * size + x) * c;
      for (let k = 0; k < c; k++) out[to + k] = image.data[from + k];
    }
  }
  return makeImage(size, size, c, image.dtype, out, image.sourceType);
}
