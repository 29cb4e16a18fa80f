/**
 * A PNG's pHYs chunk: pixels per unit along x and y, the unit being the metre (1) or
 * unknown (0, an aspect ratio only). Read here because sharp reports it as one whole
 * number of dots per inch, which loses the pixel size (0.123 µm is 206504.07 dpi).
 */
import { open } from 'node:fs/promises';

export interface PngDensity {
  readonly x: number;
  readonly y: number;
  readonly unit: number;
}

const SIGNATURE_BYTES = 8;
/** pHYs precedes the first IDAT; a file with neither in this many chunks has none worth finding. */
const MAX_CHUNKS = 64;

/** The pHYs of the PNG at `path`, or undefined when it has none. */
export async function readPngDensity(path: string): Promise<PngDensity | undefined> {
  const file = await open(path, 'r');
  try {
    const header = Buffer.alloc(8);
    let position = SIGNATURE_BYTES;
    for (let k = 0; k < MAX_CHUNKS; k++) {
      if ((await file.read(header, 0, 8, position)).bytesRead < 8) return undefined;
      const length = header.readUInt32BE(0);
      const type = header.toString('latin1', 4, 8);
      if (type === 'IDAT' || type === 'IEND') return undefined;
      if (type === 'pHYs' && length === 9) {
        const data = Buffer.alloc(9);
        if ((await file.read(data, 0, 9, position + 8)).bytesRead < 9) return undefined;
        return { x: data.readUInt32BE(0), y: data.readUInt32BE(4), unit: data[8] };
      }
      position += 12 + length; // length, type, data, CRC
    }
    return undefined;
  } finally {
    await file.close();
  }
}
