/**
 * What a written TIFF says about its pixel size, in the two forms readers know:
 * an ImageJ description (`unit=micron`) over XResolution / YResolution in pixels per
 * micrometre with ResolutionUnit none, as Fiji writes them; or, for `.ome.tif`, OME-XML
 * (OME 2016-06) with PhysicalSizeX / Y in µm and the resolution tags in pixels per
 * centimetre, which any TIFF reader understands. Pages are a stack (ImageJ slices,
 * OME Z), as Fiji shows a multi-page TIFF without a description.
 */
import type { DType } from '../image/image.js';
import type { PixelSize } from '../image/pixel-size.js';

export interface TiffCalibration {
  /** ImageDescription of the first page, absent for an uncalibrated ImageJ-style file. */
  readonly description?: string;
  /** Pixels per unit, as [numerator, denominator]; absent when uncalibrated. */
  readonly resolution?: { readonly x: [number, number]; readonly y: [number, number]; readonly unit: 1 | 3 };
}

/** The shape of what is written: `pages` pages of `width` x `height` x `channels` samples. */
export interface TiffShape {
  readonly pages: number;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly dtype: DType;
}

const OME_TYPE = { uint8: 'uint8', uint16: 'uint16', float32: 'float' } as const;
const MAX_U32 = 0xffffffff;

/** The description and resolution tags for a file of `shape`; OME-XML is written even uncalibrated, so the file is an OME-TIFF. */
export function tiffCalibration(shape: TiffShape, pixelSize: PixelSize | undefined, ome: boolean): TiffCalibration {
  if (ome) {
    return {
      description: omeXml(shape, pixelSize),
      ...(pixelSize ? { resolution: { x: rational(1e4 / pixelSize.x), y: rational(1e4 / pixelSize.y), unit: 3 } } : {}),
    };
  }
  if (!pixelSize) return {};
  const stack = shape.pages > 1 ? `images=${shape.pages}\nslices=${shape.pages}\n` : '';
  return {
    // `1.11a` is the version other writers (tifffile) put here: the description's format, not an ImageJ build.
    description: `ImageJ=1.11a\n${stack}unit=micron\n${shape.pages > 1 ? 'loop=false\n' : ''}`,
    resolution: { x: rational(1 / pixelSize.x), y: rational(1 / pixelSize.y), unit: 1 },
  };
}

function omeXml({ pages, width, height, channels, dtype }: TiffShape, size: PixelSize | undefined): string {
  const physical = size ? ` PhysicalSizeX="${size.x}" PhysicalSizeXUnit="µm" PhysicalSizeY="${size.y}" PhysicalSizeYUnit="µm"` : '';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
    'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd" Creator="unetflow">' +
    `<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="${OME_TYPE[dtype]}" BigEndian="false" ` +
    `SizeX="${width}" SizeY="${height}" SizeC="${channels}" SizeZ="${pages}" SizeT="1"${physical}>` +
    `<Channel ID="Channel:0:0" SamplesPerPixel="${channels}"/>` +
    `<TiffData IFD="0" PlaneCount="${pages}"/>` +
    '</Pixels></Image></OME>'
  );
}

/**
 * The closest fraction to `value` with numerator and denominator within 32 bits
 * (continued fractions), so that a decimal pixel size such as 0.65 µm is stored as
 * 20/13 pixels per µm and reads back as exactly 13 / 20.
 */
export function rational(value: number): [number, number] {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`a resolution must be a positive number, got ${value}`);
  if (value >= MAX_U32) return [MAX_U32, 1];
  let [h0, h1, k0, k1] = [0, 1, 1, 0]; // convergents h/k
  let x = value;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(x);
    const [h2, k2] = [a * h1 + h0, a * k1 + k0];
    if (h2 > MAX_U32 || k2 > MAX_U32) break;
    [h0, h1, k0, k1] = [h1, h2, k1, k2];
    if (x === a || Math.abs(h1 / k1 - value) <= Number.EPSILON * value) break;
    x = 1 / (x - a);
  }
  return h1 === 0 ? [1, MAX_U32] : [h1, k1];
}
