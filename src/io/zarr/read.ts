/**
 * Reading an OME-Zarr image (OME-NGFF 0.4 on Zarr v2, 0.5 on Zarr v3) with zarrita, the
 * Zarr library the web viewers use: its resolution levels, and one 2D plane at a time
 * (a time point and z plane, all channels or chosen ones), read chunk by chunk rather
 * than the whole array. Blosc, zstd, gzip and zlib chunks decode through zarrita.
 */
import FileSystemStore from '@zarrita/storage/fs';
import * as zarr from 'zarrita';
import { messageOf } from '../../errors.js';
import { allocate, makeImage, type DType, type Image, type SourceType } from '../../image/image.js';
import type { PixelSize } from '../../image/pixel-size.js';
import { keptAs } from '../kept-samples.js';
import { levelPixelSize, readMultiscales, type AxisName, type Multiscales } from './ngff.js';


export interface LevelArray {
  readonly path: string;
  /** Sizes along the image's axes, in their order. */
  readonly shape: readonly number[];
  readonly chunks: readonly number[];
  readonly dtype: DType;
  readonly sourceType?: SourceType;
}

/** Which plane of a level: the time point and z plane (0 where the image has no such axis). */
export interface PlaneIndex {
  readonly t: number;
  readonly z: number;
}

export interface OmeZarrImage {
  /** The image group's folder. */
  readonly path: string;
  readonly multiscales: Multiscales;
  readonly levels: readonly LevelArray[];
  /** The size of one axis at a level (1 where the image has no such axis). */
  size(level: number, axis: AxisName): number;
  pixelSize(level: number): PixelSize | undefined;
  /** One plane with its channels interleaved (`channels`: the channel indices to keep, in that order; all by default). */
  readPlane(level: number, plane: PlaneIndex, channels?: readonly number[]): Promise<Image>;
}

export interface OpenOptions {
  /**
   * Called for each chunk that is not there, which Zarr reads as the fill value: zarr-python
   * does not write chunks that hold only it, but an incomplete copy lacks chunks too.
   */
  readonly onMissingChunk?: (key: string) => void;
}

/**
 * The folder store, checking each chunk of a Blosc-compressed array against its header:
 * Blosc decodes a truncated chunk into garbage without a word.
 */
class CheckedStore {
  readonly blosc = new Set<string>();
  private readonly inner: FileSystemStore;

  constructor(
    path: string,
    private readonly options: OpenOptions,
  ) {
    this.inner = new FileSystemStore(path);
  }

  async get(key: zarr.AbsolutePath, opts?: Parameters<FileSystemStore['get']>[1]): Promise<Uint8Array | undefined> {
    const bytes = await this.inner.get(key, opts);
    const array = key.slice(0, key.lastIndexOf('/'));
    const chunk = !/\/(\.z\w+|zarr\.json)$/.test(key);
    if (chunk && bytes === undefined) this.options.onMissingChunk?.(key.slice(1));
    for (const prefix of this.blosc) {
      if (!bytes || !chunk || !(array === prefix || array.startsWith(`${prefix}/`))) continue;
      const claimed = bytes.length >= 16 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true) : undefined;
      if (claimed !== bytes.length) {
        throw new Error(`chunk ${key.slice(1)} is truncated or corrupt: ${bytes.length} bytes, where its Blosc header ${claimed === undefined ? 'should be 16' : `says ${claimed}`}`);
      }
    }
    return bytes;
  }
}

/** Whether an array's metadata names the Blosc codec (Zarr v2 compressor, or a v3 codec). */
function usesBlosc(metadata: Uint8Array | undefined): boolean {
  if (!metadata) return false;
  const json = JSON.parse(new TextDecoder().decode(metadata)) as { compressor?: { id?: string }; codecs?: { name?: string }[] };
  return json.compressor?.id === 'blosc' || (json.codecs ?? []).some((c) => c.name === 'blosc');
}

/** Opens the image group in folder `path`; every error names the folder (and the array) and says what was expected. */
export async function openOmeZarr(path: string, options: OpenOptions = {}): Promise<OmeZarrImage> {
  const store = new CheckedStore(path, options);
  let group: zarr.Group<CheckedStore>;
  try {
    group = await zarr.open(zarr.root(store), { kind: 'group' });
  } catch (error) {
    throw new Error(`${path}: not a Zarr group (${messageOf(error)}): expected an OME-Zarr image folder with .zgroup/.zattrs (Zarr v2) or zarr.json (v3)`, { cause: error });
  }
  let multiscales: Multiscales;
  try {
    multiscales = readMultiscales(group.attrs);
  } catch (error) {
    throw new Error(`${path}: ${messageOf(error)}`, { cause: error });
  }
  const arrays: zarr.Array<zarr.DataType, CheckedStore>[] = [];
  const levels: LevelArray[] = [];
  for (const { path: arrayPath } of multiscales.levels) {
    const where = `${path}/${arrayPath}`;
    let array: zarr.Array<zarr.DataType, CheckedStore>;
    try {
      array = await zarr.open(group.resolve(arrayPath), { kind: 'array' });
      const metadata = (await store.get(`${array.path}/.zarray` as zarr.AbsolutePath)) ?? (await store.get(`${array.path}/zarr.json` as zarr.AbsolutePath));
      if (usesBlosc(metadata)) store.blosc.add(array.path);
    } catch (error) {
      throw new Error(`${where}: cannot open the resolution level's array (${messageOf(error)}): expected a Zarr array named in the multiscales datasets`, { cause: error });
    }
    if (array.shape.length !== multiscales.axes.length) {
      throw new Error(`${where}: the array has ${array.shape.length} dimensions but the metadata names ${multiscales.axes.length} axes (${multiscales.axes.join(', ')}): expected one per axis`);
    }
    const kept = keptAs(array.dtype);
    if (!kept) throw new Error(`${where}: ${array.dtype} samples are not supported: expected uint8, uint16, float32 or an integer type up to 32 bits`);
    arrays.push(array);
    levels.push({ path: arrayPath, shape: array.shape, chunks: array.chunks, ...kept });
  }
  const axisIndex = (axis: AxisName) => multiscales.axes.indexOf(axis);
  const size = (level: number, axis: AxisName) => (axisIndex(axis) < 0 ? 1 : levels[level].shape[axisIndex(axis)]);

  return {
    path,
    multiscales,
    levels,
    size,
    pixelSize: (level) => levelPixelSize(multiscales, level),
    async readPlane(level, plane, channels) {
      const where = `${path}/${levels[level].path}`;
      const all = Array.from({ length: size(level, 'c') }, (_, i) => i);
      const chosen = channels ?? all;
      for (const c of chosen) if (!all.includes(c)) throw new Error(`${where}: channel ${c} does not exist: the image has ${all.length} channel(s)`);
      for (const axis of ['t', 'z'] as const) {
        if (!(plane[axis] >= 0 && plane[axis] < size(level, axis))) throw new Error(`${where}: ${axis} ${plane[axis]} does not exist: the image has ${size(level, axis)}`);
      }
      const [height, width] = [size(level, 'y'), size(level, 'x')];
      const { dtype, sourceType } = levels[level];
      const out = allocate(dtype, width * height * chosen.length);
      for (const [k, c] of chosen.entries()) {
        const selection = multiscales.axes.map((axis) => (axis === 't' ? plane.t : axis === 'z' ? plane.z : axis === 'c' ? c : null));
        let chunk: { data: ArrayLike<number> };
        try {
          chunk = (await zarr.get(arrays[level], selection)) as { data: ArrayLike<number> };
        } catch (error) {
          throw new Error(`${where}: cannot read the plane (t ${plane.t}, z ${plane.z}, channel ${c}): ${messageOf(error)}`, { cause: error });
        }
        for (let i = 0; i < width * height; i++) out[i * chosen.length + k] = chunk.data[i];
      }
      return makeImage(width, height, chosen.length, dtype, out, sourceType);
    },
  };
}
