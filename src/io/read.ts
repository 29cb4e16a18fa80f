/**
 * Reading images with sharp, exactly: sharp's default is to hand back 8-bit sRGB,
 * so the colourspace and sample depth are pinned from the file's own metadata.
 * Every failure is a SampleError that names the file and says what was expected.
 */
import { stat } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { SampleError, messageOf } from '../errors.js';
import { makeImage, type DType, type Image } from '../image/image.js';

export interface ImageInfo {
  readonly format: string;
  readonly width: number;
  readonly height: number;
  /** Colour channels, alpha excluded (unetflow drops alpha on read). */
  readonly channels: number;
  readonly dtype: DType;
  /** The file's own sample type when it is not one unetflow keeps (e.g. `short`, read as float32). */
  readonly sourceDepth: string;
  readonly pages: number;
}

const FORMATS = ['png', 'jpeg', 'tiff'] as const;
const DTYPE_OF_DEPTH: Record<string, DType> = { uchar: 'uint8', ushort: 'uint16', float: 'float32' };
const SHARP_DEPTH = { uint8: 'uchar', uint16: 'ushort', float32: 'float' } as const;
// Microscopy images can be far larger than sharp's default 268 MP guard; memory, not a pixel cap, is the limit.
const SHARP_OPTIONS = { limitInputPixels: false, failOn: 'warning' } as const;

/** Reads size, dtype and page count without decoding pixels. */
export async function inspectImage(path: string, step = 'load'): Promise<ImageInfo> {
  await checkFile(path, step);
  let meta: Metadata;
  try {
    meta = await sharp(path, SHARP_OPTIONS).metadata();
  } catch (error) {
    throw decodeError(path, step, error);
  }
  const format = meta.format ?? 'unknown';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new SampleError({ step, file: path }, `unsupported format '${format}': expected PNG, JPEG or TIFF`);
  }
  const depth = meta.depth ?? 'uchar';
  return {
    format,
    width: meta.width ?? 0,
    height: meta.pageHeight ?? meta.height ?? 0,
    channels: (meta.channels ?? 1) - (meta.hasAlpha ? 1 : 0),
    dtype: DTYPE_OF_DEPTH[depth] ?? 'float32',
    sourceDepth: depth,
    pages: meta.pages ?? 1,
  };
}

/** Decodes one page (0-based) of an image file. */
export async function readImage(path: string, page = 0, step = 'load', info?: ImageInfo): Promise<Image> {
  const meta = info ?? (await inspectImage(path, step));
  if (!(Number.isInteger(page) && page >= 0 && page < meta.pages)) {
    throw new SampleError({ step, file: path }, `page ${page} does not exist: the file has ${meta.pages} page(s)`);
  }
  const grey = meta.channels === 1;
  let pipeline = sharp(path, { ...SHARP_OPTIONS, page }).removeAlpha();
  if (grey) pipeline = pipeline.toColourspace(meta.dtype === 'uint16' ? 'grey16' : 'b-w');
  else if (meta.dtype === 'uint16') pipeline = pipeline.toColourspace('rgb16');
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await pipeline.raw({ depth: SHARP_DEPTH[meta.dtype] }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeError(path, step, error);
  }
  const { data, info: out } = decoded;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const pixels =
    meta.dtype === 'uint8' ? bytes : meta.dtype === 'uint16' ? new Uint16Array(bytes.buffer) : new Float32Array(bytes.buffer);
  return makeImage(out.width, out.height, out.channels, meta.dtype, pixels);
}

async function checkFile(path: string, step: string): Promise<void> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new SampleError({ step, file: path }, 'not a file: expected an image file');
    size = s.size;
  } catch (error) {
    if (error instanceof SampleError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : messageOf(error);
    throw new SampleError({ step, file: path }, `cannot read: ${why}`, { cause: error });
  }
  if (size === 0) throw new SampleError({ step, file: path }, 'the file is empty (0 bytes): expected a PNG, JPEG or TIFF image');
}

function decodeError(path: string, step: string, error: unknown): SampleError {
  const msg = messageOf(error);
  const why = /unsupported image format/i.test(msg)
    ? 'not a readable image: expected PNG, JPEG or TIFF'
    : `the image is corrupt or truncated (${msg.trim()})`;
  return new SampleError({ step, file: path }, why, { cause: error });
}
