/**
 * Writing OME-Zarr as OME-NGFF 0.4 on Zarr v2, the version most readers open today
 * (napari, Fiji's MoBIE and BigDataViewer, QuPath, webKnossos): axes (c,) (z,) y, x with
 * micrometre scales from the pixel size, a pyramid down to one chunk (mean for
 * intensities and probabilities, nearest for labels), zlib-compressed chunks of 256 x 256
 * written plane by plane as they come, and for labels the `image-label` metadata.
 * Everything goes into a temporary folder (a dot-name ending in .tmp, which watch
 * sources ignore) renamed into place by `commit`, so a half-written image never appears
 * under its final name.
 */
import { zlibSync } from 'fflate';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DType, Image } from '../../image/image.js';
import type { PixelSize } from '../../image/pixel-size.js';
import { temporaryPath } from '../atomic.js';
import { halve, type Downsampling } from './downsample.js';

export interface OmeZarrSpec {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly dtype: DType;
  /** A `c` axis where more than 1. @default 1 */
  readonly channels?: number;
  /** A `z` axis where more than 1 (planes are z planes). @default 1 */
  readonly planes?: number;
  /** Micrometres per pixel: the axes get unit `micrometer`; without it they have no unit and scale 1. */
  readonly pixelSize?: PixelSize;
  /** Labels get nearest downsampling and `image-label` metadata (with `colors`); images the mean. */
  readonly kind: 'image' | 'label';
  /** Label colours (RGBA, 0-255) by value. @default value 0 transparent, every other value (1 for a mask) in one colour */
  readonly colors?: readonly { readonly value: number; readonly rgba: readonly [number, number, number, number] }[];
  /** Where the label image's source image is, relative to it (NGFF's `source.image`). */
  readonly source?: string;
  /** Chunk width and height. @default 256 */
  readonly chunk?: number;
}

const ZARR_DTYPE: Record<DType, string> = { uint8: '|u1', uint16: '<u2', float32: '<f4' };
const BYTES: Record<DType, number> = { uint8: 1, uint16: 2, float32: 4 };

export class OmeZarrWriter {
  private readonly written = new Set<number>();

  private constructor(
    private readonly target: string,
    private readonly temporary: string,
    private readonly spec: Required<Pick<OmeZarrSpec, 'channels' | 'planes' | 'chunk'>> & OmeZarrSpec,
    /** Width and height of each level, finest first. */
    private readonly sizes: readonly { readonly width: number; readonly height: number }[],
  ) {}

  /** Starts the image that `commit` puts at `target` (a folder, conventionally `*.ome.zarr`). */
  static async create(target: string, spec: OmeZarrSpec): Promise<OmeZarrWriter> {
    const full = { channels: 1, planes: 1, chunk: 256, ...spec };
    const sizes = [{ width: spec.width, height: spec.height }];
    while (Math.max(sizes.at(-1)!.width, sizes.at(-1)!.height) > full.chunk) {
      const last = sizes.at(-1)!;
      sizes.push({ width: Math.ceil(last.width / 2), height: Math.ceil(last.height / 2) });
    }
    const writer = new OmeZarrWriter(target, temporaryPath(target), full, sizes);
    await writer.writeMetadata();
    return writer;
  }

  private get axes(): { name: string; type: string; unit?: string }[] {
    const unit = this.spec.pixelSize ? { unit: 'micrometer' } : {};
    return [
      ...(this.spec.channels > 1 ? [{ name: 'c', type: 'channel' }] : []),
      ...(this.spec.planes > 1 ? [{ name: 'z', type: 'space', ...unit }] : []),
      { name: 'y', type: 'space', ...unit },
      { name: 'x', type: 'space', ...unit },
    ];
  }

  /** The `.zattrs` of the image group: NGFF 0.4 `multiscales` (and `image-label` for labels). */
  attributes(): Record<string, unknown> {
    const { name, kind, pixelSize, channels, planes } = this.spec;
    const lead = [...(channels > 1 ? [1] : []), ...(planes > 1 ? [1] : [])];
    const multiscales = [
      {
        version: '0.4',
        name,
        type: kind === 'label' ? 'nearest' : 'mean',
        metadata: { method: kind === 'label' ? 'every second pixel of the level above' : 'the mean of 2 x 2 blocks of the level above', writer: 'unetflow' },
        axes: this.axes,
        datasets: this.sizes.map((_, level) => ({
          path: String(level),
          coordinateTransformations: [{ type: 'scale', scale: [...lead, (pixelSize?.y ?? 1) * 2 ** level, (pixelSize?.x ?? 1) * 2 ** level] }],
        })),
      },
    ];
    if (kind !== 'label') return { multiscales };
    const colors = this.spec.colors ?? [
      { value: 0, rgba: [0, 0, 0, 0] },
      { value: 1, rgba: [255, 200, 0, 128] },
    ];
    return {
      multiscales,
      'image-label': {
        version: '0.4',
        colors: colors.map((c) => ({ 'label-value': c.value, rgba: [...c.rgba] })),
        ...(this.spec.source ? { source: { image: this.spec.source } } : {}),
      },
    };
  }

  private async writeMetadata(): Promise<void> {
    const { channels, planes, chunk, dtype } = this.spec;
    await mkdir(this.temporary, { recursive: true });
    await writeFile(join(this.temporary, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
    await writeFile(join(this.temporary, '.zattrs'), JSON.stringify(this.attributes(), null, 2));
    const lead = [...(channels > 1 ? [channels] : []), ...(planes > 1 ? [planes] : [])];
    for (const [level, { width, height }] of this.sizes.entries()) {
      await mkdir(join(this.temporary, String(level)));
      const zarray = {
        zarr_format: 2,
        shape: [...lead, height, width],
        chunks: [...lead.map(() => 1), chunk, chunk],
        dtype: ZARR_DTYPE[dtype],
        compressor: { id: 'zlib', level: 1 },
        fill_value: 0,
        order: 'C',
        filters: null,
        dimension_separator: '/',
      };
      await writeFile(join(this.temporary, String(level), '.zarray'), JSON.stringify(zarray, null, 2));
    }
  }

  /** Writes z plane `z` (all channels, interleaved as unetflow's images are) at every level. */
  async writePlane(z: number, image: Image): Promise<void> {
    const { width, height, channels, planes, dtype } = this.spec;
    if (!(Number.isInteger(z) && z >= 0 && z < planes)) throw new RangeError(`plane ${z} is outside the image's ${planes} plane(s)`);
    if (image.width !== width || image.height !== height || image.channels !== channels || image.dtype !== dtype) {
      throw new TypeError(`plane ${z} is ${image.width} x ${image.height} x ${image.channels} ${image.dtype}: expected ${width} x ${height} x ${channels} ${dtype}`);
    }
    let level = image;
    for (let l = 0; l < this.sizes.length; l++) {
      if (l > 0) level = halve(level, this.spec.kind === 'label' ? 'nearest' : 'mean');
      await this.writeLevel(l, z, level);
    }
    this.written.add(z);
  }

  private async writeLevel(level: number, z: number, image: Image): Promise<void> {
    const { chunk, channels, planes, dtype } = this.spec;
    const bytes = BYTES[dtype];
    for (let c = 0; c < channels; c++) {
      const lead = [...(channels > 1 ? [c] : []), ...(planes > 1 ? [z] : [])];
      for (let cy = 0; cy * chunk < image.height; cy++) {
        for (let cx = 0; cx * chunk < image.width; cx++) {
          // Zarr v2 chunks are whole at the image's edges too, padded with the fill value.
          const block = new (image.data.constructor as new (n: number) => typeof image.data)(chunk * chunk);
          for (let y = 0; y < chunk && cy * chunk + y < image.height; y++) {
            for (let x = 0; x < chunk && cx * chunk + x < image.width; x++) {
              block[y * chunk + x] = image.data[((cy * chunk + y) * image.width + cx * chunk + x) * channels + c];
            }
          }
          const raw = new Uint8Array(block.buffer, block.byteOffset, chunk * chunk * bytes);
          const folder = join(this.temporary, String(level), ...lead.map(String), String(cy));
          await mkdir(folder, { recursive: true });
          await writeFile(join(folder, String(cx)), zlibSync(raw, { level: 1 }));
        }
      }
    }
  }

  /** Puts the image at its final name (replacing one there); throws where a plane was never written. */
  async commit(): Promise<void> {
    const missing = Array.from({ length: this.spec.planes }, (_, z) => z).filter((z) => !this.written.has(z));
    if (missing.length) throw new Error(`${this.target}: plane(s) ${missing.join(', ')} were not written: the image is incomplete`);
    const aside = temporaryPath(this.target);
    const replaced = await rename(this.target, aside).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    await rename(this.temporary, this.target);
    if (replaced) await rm(aside, { recursive: true, force: true });
  }

  /** Removes what was written. */
  async abort(): Promise<void> {
    await rm(this.temporary, { recursive: true, force: true });
  }
}
