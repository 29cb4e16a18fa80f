/**
 * The one record that flows through every unetflow stream. Operators read fields and
 * return a new Sample with fields added or replaced; they never mutate what they got.
 */
import type { Image } from './image/image.js';
import type { PixelSize } from './image/pixel-size.js';
import type { Margins, MirrorMode } from './kernels/mirror.js';
import type { TileGrid } from './kernels/tiling.js';
import type { TileBudget } from './tile-budget.js';

/** Where a sample came from. */
export interface Source {
  /** Path of the input file, as the source gave it. */
  readonly path: string;
  /** Folder the source scanned: outputs keep the path's subfolders relative to it. */
  readonly root?: string;
  /** Path of the matching label file (the `pairs` source). */
  readonly labelPath?: string;
  /** Page of a multi-page TIFF (0-based); absent for single-page files. */
  readonly page?: number;
  /** Number of pages in the file. */
  readonly pages?: number;
  /**
   * The z/t plane of a multi-channel or z/t TIFF (src/io/tiff-dimensions.ts), with the
   * suffix that names it in ids and outputs (`z3.t0`); absent for other files.
   */
  readonly plane?: { readonly z: number; readonly t: number; readonly suffix: string };
  /** Pass over the source (pipelines with `epochs`), 0-based; random steps draw anew each epoch. */
  readonly epoch?: number;
  /**
   * The stem of this input's output names, subfolders '/'-separated (`day1/slice`): set
   * by a run so that no two inputs share outputs. @default the input's name (output-path.ts)
   */
  readonly outputStem?: string;
}

/** What a source emits and `load` reads. */
export type SourceRef = Pick<Source, 'path' | 'root' | 'labelPath' | 'epoch' | 'outputStem'>;

/** Carried by a tile so that `stitch` can put it back, whatever order tiles arrive in. */
export interface TileInfo {
  /** Position in the parent's grid, row-major: index = row * cols + col. */
  readonly index: number;
  readonly row: number;
  readonly col: number;
  /** The grid shared by all tiles of the parent. */
  readonly grid: TileGrid;
  /**
   * The parent sample as it entered `tile`: its image at the original size with
   * `mirroring` recorded, or, for an image that came already mirrored (`padding` set
   * by code other than `mirror`), mirrored by `grid.padding`.
   */
  readonly parent: Sample;
  /** Permits of the parent's tiles in flight, when a `stitch` downstream gives them back. */
  readonly budget?: TileBudget;
}

/**
 * Mirroring recorded by `mirror` for `tile` to apply as it cuts: the image keeps its
 * original size, and each tile reads the margins through mirrored indices, so no
 * mirrored copy of a large image is made.
 */
export interface Mirroring {
  readonly margins: Margins;
  readonly mode: MirrorMode;
}

export interface Sample {
  /** Unique within a run: the input's base name, `.p<page>` for pages, `.z<z>.t<t>` for planes, `#<index>` for tiles. */
  readonly id: string;
  readonly source: Source;
  readonly image: Image;
  /** Ground truth: binary (0 / foreground) or instance ids. */
  readonly label?: Image;
  /** Per-pixel loss weights (float32). */
  readonly weights?: Image<'float32'>;
  /** Per-class probabilities, one channel per class (float32). */
  readonly probabilities?: Image<'float32'>;
  /** Class index per pixel. */
  readonly mask?: Image;
  /** Instance ids per pixel, 0 = background. */
  readonly instances?: Image<'uint16'>;
  /** Margins by which `image` was mirrored beyond the original (an image already extended by code other than `mirror`). */
  readonly padding?: Margins;
  /** Margins and mode to mirror by as tiles are cut; `image` is unmirrored (set by `mirror`). */
  readonly mirroring?: Mirroring;
  readonly tile?: TileInfo;
  readonly metadata?: SampleMetadata;
}

/** What steps record about a sample besides its pixels; steps add their own keys (`outputs`, `metrics`, ...). */
export interface SampleMetadata {
  /**
   * Micrometres per pixel, set by `load` from the file (or its `pixelSize`): written into
   * every TIFF (and square-pixel PNG) that `save` writes, and turned into µm by `measurements`.
   */
  readonly pixelSize?: PixelSize;
  readonly [key: string]: unknown;
}

/**
 * Per-pixel fields that travel with the image through `mirror` and `tile` (so tiles of
 * a training sample carry their label and weights) and that `stitch` unpads again.
 */
export const paddedFields = ['image', 'label', 'weights'] as const;

/** Mirrors every padded field present, checking that it has the image's size. */
export function mapPaddedFields(sample: Sample, f: (image: Image, field: (typeof paddedFields)[number]) => Image): Partial<Sample> {
  const out: Record<string, Image> = {};
  for (const field of paddedFields) {
    const image = sample[field];
    if (!image) continue;
    if (image.width !== sample.image.width || image.height !== sample.image.height) {
      throw new Error(`the ${field} is ${image.width}x${image.height} but the image is ${sample.image.width}x${sample.image.height}`);
    }
    out[field] = f(image, field);
  }
  return out as Partial<Sample>;
}

/** The image fields that operators such as `stitch` and `save` can address by name. */
export const imageFields = ['image', 'label', 'weights', 'probabilities', 'mask', 'instances'] as const;
export type ImageField = (typeof imageFields)[number];
