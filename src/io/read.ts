/**
 * Reading images with sharp, exactly: sharp's default is to hand back 8-bit sRGB,
 * so the colourspace and sample depth are pinned from the file's own metadata.
 * Every failure is a SampleError that names the file and says, in one line, what was
 * expected; sharp's own error, libtiff's warnings included, is kept as `cause`.
 */
import { stat } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { SampleError, messageOf } from '../errors.js';
import { makeImage, type DType, type Image, type SourceType } from '../image/image.js';
import { refuseOversized } from './decode-limit.js';
import { keptAsLibvips } from './kept-samples.js';
import { openRegular } from './input-kind.js';
import { calibrationFromPhys, calibrationFromTiff, type Calibration } from './pixel-size.js';
import { readPngDensity } from './png-density.js';
import { ascii, integers, looksLikeTiff, rational, readFirstDirectory, type TiffField } from './tiff-directory.js';
import { explainTiff, unsupportedSamples } from './tiff-layout.js';

export interface ImageInfo {
  readonly format: string;
  readonly width: number;
  readonly height: number;
  /** Colour channels, alpha excluded (unetflow drops alpha on read). */
  readonly channels: number;
  /** Whether the file has an alpha channel besides them. */
  readonly alpha: boolean;
  readonly dtype: DType;
  /** The file's int8, int16, int32 or uint32 sample type, which unetflow keeps as float32 data. */
  readonly sourceType?: SourceType;
  /** The file's sample type as libvips names it (`uchar`, `short`, `float`, ...). */
  readonly sourceDepth: string;
  readonly pages: number;
  /** The pixel size the file records (TIFF: OME-XML, ImageJ, resolution tags; PNG: pHYs), and problems with it. */
  readonly calibration: Calibration;
}

const FORMATS = ['png', 'jpeg', 'tiff'] as const;
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
    throw await decodeError(path, step, error);
  }
  const format = meta.format ?? 'unknown';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new SampleError({ step, file: path }, `unsupported format '${format}': expected PNG, JPEG or TIFF`);
  }
  const depth = meta.depth ?? 'uchar';
  const kept = keptAsLibvips(depth);
  if (!kept) {
    const why = depth === 'double' ? unsupportedSamples.float64 : /complex/.test(depth) ? unsupportedSamples.complex : `${depth} samples are not supported`;
    throw new SampleError({ step, file: path }, why);
  }
  return {
    format,
    width: meta.width ?? 0,
    height: meta.pageHeight ?? meta.height ?? 0,
    channels: (meta.channels ?? 1) - (meta.hasAlpha ? 1 : 0),
    alpha: meta.hasAlpha ?? false,
    dtype: kept.dtype,
    ...(kept.sourceType ? { sourceType: kept.sourceType } : {}),
    sourceDepth: depth,
    pages: meta.pages ?? 1,
    calibration: format === 'tiff' ? await tiffCalibration(path, step) : format === 'png' ? calibrationFromPhys(await readPngDensity(path)) : { problems: [] },
  };
}

const CALIBRATION_TAGS = { ImageDescription: 270, XResolution: 282, YResolution: 283, ResolutionUnit: 296 } as const;

/** The pixel size in a TIFF's first directory, which sharp reads only in part (density in whole dots per inch, no description). */
async function tiffCalibration(path: string, step: string): Promise<Calibration> {
  let fields: Map<number, TiffField>;
  try {
    const { handle: file } = await openRegular(path);
    try {
      const directory = await readFirstDirectory(file, (await file.stat()).size, Object.values(CALIBRATION_TAGS));
      if (!directory || 'truncated' in directory) return { problems: [] }; // sharp has read the file; nothing to calibrate from
      fields = directory.fields;
    } finally {
      await file.close();
    }
  } catch (error) {
    throw new SampleError({ step, file: path }, `cannot read the TIFF's image directory: ${messageOf(error)}`, { cause: error });
  }
  return calibrationFromTiff({
    description: ascii(fields, CALIBRATION_TAGS.ImageDescription),
    xResolution: rational(fields, CALIBRATION_TAGS.XResolution),
    yResolution: rational(fields, CALIBRATION_TAGS.YResolution),
    resolutionUnit: integers(fields, CALIBRATION_TAGS.ResolutionUnit)?.[0],
  });
}

/** A rectangle of an image, in pixels. */
export interface PixelRegion {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Decodes one page (0-based) of an image file, or one region of it: libvips then reads
 * only the tiles (of a tiled TIFF) or strips the region needs, never the whole image.
 */
export async function readImage(path: string, page = 0, step = 'load', info?: ImageInfo, region?: PixelRegion): Promise<Image> {
  const meta = info ?? (await inspectImage(path, step));
  if (!(Number.isInteger(page) && page >= 0 && page < meta.pages)) {
    throw new SampleError({ step, file: path }, `page ${page} does not exist: the file has ${meta.pages} page(s)`);
  }
  if (region && !(region.x >= 0 && region.y >= 0 && region.width >= 1 && region.height >= 1 && region.x + region.width <= meta.width && region.y + region.height <= meta.height)) {
    throw new SampleError({ step, file: path }, `region ${region.width} x ${region.height} at ${region.x}, ${region.y} is outside the ${meta.width} x ${meta.height} image`);
  }
  // A region is decoded alone: the limit is on what it takes, not on the whole image.
  refuseOversized(path, step, region ? { ...meta, ...region } : meta);
  // libvips takes one-channel int16 as 16-bit grey and clamps it to 0-65535 on any
  // colourspace conversion: shift it into that range first, exactly, and back after.
  const shifted = meta.channels === 1 && meta.sourceType === 'int16';
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    const file = sharp(path, { ...SHARP_OPTIONS, page });
    const cut = region ? file.extract({ left: region.x, top: region.y, width: region.width, height: region.height }) : file;
    decoded = await decoder(cut.removeAlpha(), meta, shifted).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw await decodeError(path, step, error);
  }
  const { data, info: out } = decoded;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (shifted) {
    const stored = new Uint16Array(bytes.buffer);
    const pixels = new Float32Array(stored.length);
    for (let i = 0; i < stored.length; i++) pixels[i] = stored[i] - 32768;
    return makeImage(out.width, out.height, out.channels, 'float32', pixels, 'int16');
  }
  const pixels =
    meta.dtype === 'uint8' ? bytes : meta.dtype === 'uint16' ? new Uint16Array(bytes.buffer) : new Float32Array(bytes.buffer);
  return makeImage(out.width, out.height, out.channels, meta.dtype, pixels, meta.sourceType);
}

/** The sharp pipeline that hands back the file's own values (sharp's default is 8-bit sRGB). */
function decoder(pipeline: Sharp, meta: ImageInfo, shifted: boolean): Sharp {
  if (shifted) return pipeline.linear(1, 32768).toColourspace('grey16').raw({ depth: 'ushort' });
  if (meta.channels === 1) pipeline = pipeline.toColourspace(meta.dtype === 'uint16' ? 'grey16' : 'b-w');
  else if (meta.dtype === 'uint16') pipeline = pipeline.toColourspace('rgb16');
  return pipeline.raw({ depth: SHARP_DEPTH[meta.dtype] });
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

/** One line saying why sharp could not read the file: from the TIFF's own directory where that tells more. */
async function decodeError(path: string, step: string, error: unknown): Promise<SampleError> {
  const head = await readHead(path);
  const explained = head && looksLikeTiff(head) ? await explainTiff(path).catch(() => undefined) : undefined;
  const known = head && (looksLikeTiff(head) || isPng(head) || isJpeg(head));
  const why =
    explained ??
    (known || !/unsupported image format/i.test(messageOf(error))
      ? `the image is corrupt or truncated (${oneLine(messageOf(error))})`
      : 'not a readable image: expected PNG, JPEG or TIFF');
  return new SampleError({ step, file: path }, why, { cause: error });
}

/** libvips's message on one line: its distinct lines, less sharp's note on `failOn`, the first two kept. */
function oneLine(message: string): string {
  const lines = [...new Set(message.split('\n').map((l) => l.trim()))].filter((l) => l && !/treated as error due to failOn/i.test(l));
  return lines.slice(0, 2).join('; ') + (lines.length > 2 ? '; ...' : '');
}

async function readHead(path: string): Promise<Buffer | undefined> {
  try {
    const { handle: file } = await openRegular(path);
    try {
      const buffer = Buffer.alloc(16);
      const { bytesRead } = await file.read(buffer, 0, 16, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch {
    return undefined;
  }
}

const isPng = (head: Uint8Array) => head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47;
const isJpeg = (head: Uint8Array) => head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
