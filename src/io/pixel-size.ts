/**
 * The physical size of a pixel, as microscope files record it: OME-XML in the TIFF's
 * ImageDescription, an ImageJ description (`unit=`) over XResolution / YResolution,
 * the resolution tags with ResolutionUnit inch or centimetre, or a PNG's pHYs. Pure
 * functions over the fields read from the file; a value that is there but unusable
 * (zero, negative, not a number, an unknown unit) or two sources that disagree come
 * back as problems to warn about, never as a silently wrong calibration.
 */
import type { PixelSize } from '../image/pixel-size.js';

/** What the file says: a pixel size when usable, and what a user should be told. */
export interface Calibration {
  readonly pixelSize?: PixelSize;
  readonly problems: readonly string[];
}

/** The TIFF fields that carry a calibration; absent ones are undefined. */
export interface CalibrationFields {
  readonly description?: string;
  readonly xResolution?: readonly [number, number];
  readonly yResolution?: readonly [number, number];
  /** 1 none, 2 inch, 3 centimetre; TIFF 6.0 takes inch when absent. */
  readonly resolutionUnit?: number;
}

/** Micrometres per unit, by the names OME-XML and ImageJ give units. */
export const MICROMETRES: Record<string, number> = {
  pm: 1e-6, 'Å': 1e-4, angstrom: 1e-4, nm: 1e-3, nanometer: 1e-3, nanometre: 1e-3,
  'µm': 1, 'μm': 1, um: 1, micron: 1, microns: 1, micrometer: 1, micrometre: 1,
  mm: 1e3, millimeter: 1e3, millimetre: 1e3, cm: 1e4, centimeter: 1e4, centimetre: 1e4,
  m: 1e6, meter: 1e6, metre: 1e6, inch: 25400, in: 25400,
};
/** Resolutions that image software writes when nobody calibrated the image (72 and 96 dpi screens, libvips's 1 pixel per mm): not a microscope's. */
const DEFAULT_DPI = [72, 96, 25.4];
/** Two sources disagreeing by more than this (relative) are reported. */
const AGREE = 1e-3;

type Found = { readonly size: PixelSize; readonly from: string } | { readonly problem: string } | undefined;

/** The pixel size the fields give, by precedence OME-XML, ImageJ description, resolution tags. */
export function calibrationFromTiff(fields: CalibrationFields): Calibration {
  const text = fields.description?.trim() ?? '';
  const found = [
    /<OME[\s>]/.test(text) ? fromOme(text) : undefined,
    text.startsWith('ImageJ=') ? fromImageJ(text, fields) : undefined,
    fromResolution(fields),
  ];
  const problems = found.flatMap((f) => (f && 'problem' in f ? [f.problem] : []));
  const sizes = found.filter((f): f is { size: PixelSize; from: string } => !!f && 'size' in f);
  const [chosen, ...others] = sizes;
  for (const other of others) {
    if (!agree(chosen.size, other.size)) {
      problems.push(`its ${chosen.from} gives ${describePixelSize(chosen.size)} but its ${other.from} ${describePixelSize(other.size)}: using the ${chosen.from}`);
    }
  }
  return { ...(chosen ? { pixelSize: chosen.size } : {}), problems };
}

/** The pixel size a PNG's pHYs chunk gives: pixels per metre along x and y (`unit` 1), or none (`unit` 0, an aspect ratio). */
export function calibrationFromPhys(density: { readonly x: number; readonly y: number; readonly unit: number } | undefined): Calibration {
  if (!density || density.unit !== 1 || isDefaultDpi(density.x * 0.0254, density.y * 0.0254)) return { problems: [] };
  const size = { y: shortestDecimal(density.y), x: shortestDecimal(density.x) };
  return !isUsablePixelSize(size) ? { problems: [`its pHYs chunk (${density.x} x ${density.y} pixels per metre) gives no usable pixel size: expected positive numbers`] } : { pixelSize: size, problems: [] };
}

/**
 * pHYs stores whole pixels per metre: the shortest decimal micrometres that round to
 * `perMetre`, so that the 0.65 µm a writer meant comes back rather than 0.6500002.
 */
function shortestDecimal(perMetre: number): number {
  if (perMetre === 0) return NaN;
  const exact = 1e6 / perMetre;
  for (let digits = 1; digits < 17; digits++) {
    const candidate = Number(exact.toPrecision(digits));
    if (Math.round(1e6 / candidate) === perMetre) return candidate;
  }
  return exact;
}

/** Whether both sizes are positive, finite numbers. */
export function isUsablePixelSize(size: PixelSize): boolean {
  return [size.y, size.x].every((v) => Number.isFinite(v) && v > 0);
}

/** `y 0.65 µm, x 0.5 µm` for messages. */
export function describePixelSize(size: PixelSize): string {
  const show = (v: number) => String(Number.isFinite(v) ? Number(v.toPrecision(6)) : v);
  return `y ${show(size.y)} µm, x ${show(size.x)} µm`;
}

function fromOme(xml: string): Found {
  const pixels = /<(?:\w+:)?Pixels\s([^>]*)>/.exec(xml)?.[1];
  if (!pixels) return undefined;
  const attr = (name: string) => new RegExp(`\\b${name}\\s*=\\s*(["'])(.*?)\\1`).exec(pixels)?.[2];
  const x = attr('PhysicalSizeX');
  const y = attr('PhysicalSizeY');
  if (x === undefined && y === undefined) return undefined;
  if (x === undefined || y === undefined) return { problem: `its OME-XML gives PhysicalSize${x === undefined ? 'Y' : 'X'} only: expected both PhysicalSizeX and PhysicalSizeY` };
  // The OME schema's default unit is the micrometre.
  const sx = inMicrometres(Number(x), attr('PhysicalSizeXUnit') ?? 'µm');
  const sy = inMicrometres(Number(y), attr('PhysicalSizeYUnit') ?? 'µm');
  if (typeof sx === 'string' || typeof sy === 'string') return { problem: `its OME-XML ${typeof sx === 'string' ? sx : sy}` };
  return checked({ y: sy, x: sx }, 'OME-XML', `PhysicalSizeY="${y}", PhysicalSizeX="${x}"`);
}

function fromImageJ(description: string, fields: CalibrationFields): Found {
  const unit = /^unit=(.*)$/m.exec(description)?.[1].trim();
  if (!unit || unit === 'pixel' || unit === 'pixels') return undefined;
  if (!fields.xResolution || !fields.yResolution) return { problem: `its ImageJ description says unit=${unit} but XResolution / YResolution are missing` };
  // ImageJ escapes non-ASCII units: `\u00B5m`.
  const name = unit.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const sx = inMicrometres(perPixel(fields.xResolution), name);
  const sy = inMicrometres(perPixel(fields.yResolution), name);
  if (typeof sx === 'string' || typeof sy === 'string') return { problem: `its ImageJ description ${typeof sx === 'string' ? sx : sy}` };
  return checked({ y: sy, x: sx }, 'ImageJ description', `XResolution ${ratio(fields.xResolution)}, YResolution ${ratio(fields.yResolution)}`);
}

function fromResolution(fields: CalibrationFields): Found {
  const { xResolution: xr, yResolution: yr, resolutionUnit = 2 } = fields;
  if (!xr || !yr || resolutionUnit === 1) return undefined;
  const unit = resolutionUnit === 2 ? 'inch' : resolutionUnit === 3 ? 'cm' : undefined;
  if (!unit) return { problem: `its ResolutionUnit is ${resolutionUnit}: expected 1 (none), 2 (inch) or 3 (centimetre)` };
  if (unit === 'inch' && isDefaultDpi(xr[0] / xr[1], yr[0] / yr[1])) return undefined;
  const size = { y: perPixel(yr) * MICROMETRES[unit], x: perPixel(xr) * MICROMETRES[unit] };
  return checked(size, 'resolution tags', `XResolution ${ratio(xr)}, YResolution ${ratio(yr)} per ${unit}`);
}

function checked(size: PixelSize, from: string, raw: string): Found {
  return !isUsablePixelSize(size) ? { problem: `its ${from} (${raw}) gives no usable pixel size: expected positive numbers` } : { size, from };
}

/** Units per pixel: the reciprocal of a resolution (pixels per unit), NaN for a zero one. */
function perPixel([numerator, denominator]: readonly [number, number]): number {
  return numerator === 0 ? NaN : denominator / numerator;
}

function inMicrometres(value: number, unit: string): number | string {
  const known = (name: string) => (Object.hasOwn(MICROMETRES, name) ? MICROMETRES[name] : undefined);
  const factor = known(unit.trim()) ?? known(unit.trim().toLowerCase());
  return factor === undefined ? `names the unit '${unit}', which unetflow does not know: expected one of nm, µm (micron), mm, cm, m, inch` : value * factor;
}

function isDefaultDpi(x: number, y: number): boolean {
  return DEFAULT_DPI.some((d) => Math.abs(x - d) <= d * AGREE && Math.abs(y - d) <= d * AGREE);
}

function agree(a: PixelSize, b: PixelSize): boolean {
  return Math.abs(a.y - b.y) <= AGREE * a.y && Math.abs(a.x - b.x) <= AGREE * a.x;
}

function ratio([numerator, denominator]: readonly [number, number]): string {
  return `${numerator}/${denominator}`;
}
