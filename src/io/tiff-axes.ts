/**
 * How a TIFF's pages make up channels, z slices and time frames, as its first
 * ImageDescription says: OME-XML (`DimensionOrder`, `SizeC`, `SizeZ`, `SizeT` of the
 * first `Pixels`) or an ImageJ description (`channels=`, `slices=`, `frames=`, pages in
 * CZT order, hyperstack or not). Pure functions over the description, shared by Node's
 * reader (tiff-dimensions.ts) and the page's.
 *
 * OME planes are taken in DimensionOrder from the first page, as OME's TiffData does by
 * default and as tifffile, Bio-Formats and unetflow write them. A file whose pages are
 * one channel along z only (a plain stack, as Fiji, tifffile and unetflow's own `save`
 * describe one), an OME-TIFF of several images (series) and one of a set of files that
 * share one image have no layout here: they stay a page per sample.
 */

/** The planes of a multi-channel or z/t TIFF. */
export interface TiffLayout {
  /** Where the layout was read: `OME-XML` or `ImageJ description`. */
  readonly from: string;
  /** Channels of one plane, in samples (pages per plane times samples per page). */
  readonly channels: number;
  /** Pages holding one plane's channels (1 when a page holds them all, as RGB does). */
  readonly channelPages: number;
  readonly z: number;
  readonly t: number;
  /** Axes from fastest- to slowest-varying over the pages, e.g. `CZT`. */
  readonly order: string;
}

/** One z/t plane: its indices, its place among the file's planes (z fastest) and the suffix naming it (`z3.t0`; '' for a single plane). */
export interface TiffPlane {
  readonly z: number;
  readonly t: number;
  readonly index: number;
  readonly suffix: string;
}

/**
 * The layout the description gives for a file of `pages` pages of `samplesPerPage`
 * samples: undefined for a plain single-channel z stack or no dimensions at all; a
 * string saying what disagrees where the sizes do not multiply to the pages.
 */
export function layoutFromDescription(description: string | undefined, pages: number, samplesPerPage: number, fileName?: string): TiffLayout | string | undefined {
  const text = description?.trim() ?? '';
  if (/<OME[\s>]/.test(text)) return fromOme(text, pages, samplesPerPage, fileName);
  if (text.startsWith('ImageJ=')) return fromImageJ(text, pages, samplesPerPage);
  return undefined;
}

function fromOme(xml: string, pages: number, samplesPerPage: number, fileName?: string): TiffLayout | string | undefined {
  const images = xml.match(/<(?:\w+:)?Image[\s>]/g)?.length ?? 0;
  const pixels = /<(?:\w+:)?Pixels\s([^>]*)>/.exec(xml)?.[1];
  // Several images (series), or planes spread over several files (TiffData naming another
  // file, as Micro-Manager and Bio-Formats sets do): read page by page, as before.
  const files = [...xml.matchAll(/<(?:\w+:)?UUID\s[^>]*\bFileName\s*=\s*(["'])(.*?)\1/g)].map((m) => m[2]);
  if (!pixels || images > 1 || (fileName !== undefined && files.some((f) => f !== fileName))) return undefined;
  const attr = (name: string) => new RegExp(`\\b${name}\\s*=\\s*(["'])(.*?)\\1`).exec(pixels)?.[2];
  const sizes: Record<string, number> = {};
  for (const axis of ['C', 'Z', 'T']) {
    const raw = attr(`Size${axis}`) ?? '1';
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) return `its OME-XML says Size${axis}="${raw}": expected a positive integer`;
    sizes[axis] = value;
  }
  const order = attr('DimensionOrder') ?? 'XYZCT';
  if (!/^XY(?:CZT|CTZ|ZCT|ZTC|TCZ|TZC)$/.test(order)) return `its OME-XML says DimensionOrder="${order}": expected XY followed by C, Z and T in some order`;
  const described = `SizeC=${sizes.C} x SizeZ=${sizes.Z} x SizeT=${sizes.T}`;
  return checked({ from: 'OME-XML', sizes, order: order.slice(2), described }, pages, samplesPerPage);
}

function fromImageJ(text: string, pages: number, samplesPerPage: number): TiffLayout | string | undefined {
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1].trim();
  const count = (key: string): number | string | undefined => {
    const raw = value(key);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    return Number.isInteger(n) && n >= 1 ? n : `its ImageJ description says ${key}=${raw}: expected a positive integer`;
  };
  const [images, c, z, t] = [count('images'), count('channels'), count('slices'), count('frames')];
  const bad = [images, c, z, t].find((v) => typeof v === 'string');
  if (bad) return bad;
  if (c === undefined && z === undefined && t === undefined) {
    if (images === undefined) return undefined; // nothing said about the pages
    // images= alone: a stack, which ImageJ takes as slices.
    return checked({ from: 'ImageJ description', sizes: { C: 1, Z: images as number, T: 1 }, order: 'CZT', described: `images=${images}` }, pages, samplesPerPage);
  }
  const sizes = { C: (c ?? 1) as number, Z: (z ?? 1) as number, T: (t ?? 1) as number };
  const described = `channels=${sizes.C} x slices=${sizes.Z} x frames=${sizes.T}`;
  if (images !== undefined && images !== sizes.C * sizes.Z * sizes.T) {
    return `its ImageJ description says images=${images} but ${described} = ${sizes.C * sizes.Z * sizes.T}: fix or remove the description, or save the image again from Fiji`;
  }
  // ImageJ stores a hyperstack's planes channel fastest, then slice, then frame.
  return checked({ from: 'ImageJ description', sizes, order: 'CZT', described }, pages, samplesPerPage);
}

function checked(
  found: { from: string; sizes: Record<string, number>; order: string; described: string },
  pages: number,
  samplesPerPage: number,
): TiffLayout | string | undefined {
  const { C, Z, T } = found.sizes;
  // A page of several samples (RGB) holds that many channels of one plane.
  const channelPages = C % samplesPerPage === 0 ? C / samplesPerPage : C;
  const channels = channelPages * samplesPerPage;
  const planes = channelPages * Z * T;
  if (planes !== pages) {
    const perPage = samplesPerPage > 1 ? ` of ${samplesPerPage} samples each` : '';
    const big = pages === 1 && planes > 1 ? ' (ImageJ stores files over 4 GiB as one page with the rest of the planes after it, which unetflow does not read: save such a file as OME-TIFF or BigTIFF)' : '';
    return `its ${found.from} describes ${found.described} = ${planes} page${planes === 1 ? '' : 's'}${perPage}, but the file has ${pages}${big}: expected one page per channel of each z/t plane — fix or remove the description, or save the image again from Fiji or tifffile`;
  }
  if (channelPages === 1 && T === 1) return undefined; // a plain stack: one sample per page, as before
  return { from: found.from, channels, channelPages, z: Z, t: T, order: found.order };
}

/** The file's planes in the order their samples come: z fastest, then t. */
export function planesOf(layout: TiffLayout): TiffPlane[] {
  const out: TiffPlane[] = [];
  for (let t = 0; t < layout.t; t++) {
    for (let z = 0; z < layout.z; z++) {
      const suffix = [layout.z > 1 ? `z${z}` : '', layout.t > 1 ? `t${t}` : ''].filter(Boolean).join('.');
      out.push({ z, t, index: out.length, suffix });
    }
  }
  return out;
}

/** The page (0-based IFD) holding channel page `c` of plane (`z`, `t`). */
export function pageOf(layout: TiffLayout, c: number, z: number, t: number): number {
  const size: Record<string, number> = { C: layout.channelPages, Z: layout.z, T: layout.t };
  const at: Record<string, number> = { C: c, Z: z, T: t };
  let page = 0;
  let stride = 1;
  for (const axis of layout.order) {
    page += at[axis] * stride;
    stride *= size[axis];
  }
  return page;
}

/** `3 channels x 4 z x 2 t (OME-XML)` for messages. */
export function describeLayout(layout: TiffLayout): string {
  return `${layout.channels} channel${layout.channels === 1 ? '' : 's'} x ${layout.z} z x ${layout.t} t (${layout.from})`;
}

