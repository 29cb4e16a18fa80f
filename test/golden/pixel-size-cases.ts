/**
 * The calibrated TIFFs and PNGs that test/golden/pixel-size.py has tifffile and Pillow
 * read: each encoded by unetflow's writer. Run as a script, writes them into the folder given:
 *   node --import tsx test/golden/pixel-size-cases.ts <folder>
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Image } from '../../src/image/image.js';
import type { PixelSize } from '../../src/image/pixel-size.js';
import { encodeImage, extensionOf, type ImageFormat } from '../../src/io/write.js';
import { randomImage } from '../helpers/images.js';

export interface GoldenCase {
  readonly name: string;
  readonly pages: readonly Image[];
  readonly format: Extract<ImageFormat, 'tiff' | 'ome-tiff' | 'png'>;
  readonly pixelSize: PixelSize;
}

export const goldenCases: readonly GoldenCase[] = [
  { name: 'imagej-uint8', pages: [randomImage(7, 5, 1, 'uint8', 1)], format: 'tiff', pixelSize: { y: 0.65, x: 0.65 } },
  { name: 'imagej-uint16-anisotropic', pages: [randomImage(6, 9, 1, 'uint16', 2)], format: 'tiff', pixelSize: { y: 0.5, x: 0.1234 } },
  { name: 'imagej-float32-stack', pages: [1, 2, 3].map((s) => randomImage(5, 4, 1, 'float32', s)), format: 'tiff', pixelSize: { y: 0.108, x: 0.108 } },
  { name: 'imagej-rgb', pages: [randomImage(4, 3, 3, 'uint8', 4)], format: 'tiff', pixelSize: { y: 2.5, x: 2.5 } },
  { name: 'ome-uint16', pages: [randomImage(6, 5, 1, 'uint16', 5)], format: 'ome-tiff', pixelSize: { y: 0.325, x: 0.65 } },
  { name: 'ome-float32-stack', pages: [6, 7].map((s) => randomImage(5, 5, 1, 'float32', s)), format: 'ome-tiff', pixelSize: { y: 0.0917, x: 0.0917 } },
  { name: 'png-uint8-rgb', pages: [randomImage(5, 4, 3, 'uint8', 8)], format: 'png', pixelSize: { y: 0.65, x: 0.65 } },
  { name: 'png-uint16-anisotropic', pages: [randomImage(4, 6, 1, 'uint16', 9)], format: 'png', pixelSize: { y: 0.5, x: 0.1234 } },
];

export function encodeCase(c: GoldenCase): Promise<Buffer> {
  return encodeImage(c.format === 'png' ? c.pages[0] : c.pages, c.format, { pixelSize: c.pixelSize });
}

export function fileName(c: GoldenCase): string {
  return `${c.name}.${extensionOf[c.format]}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node --import tsx test/golden/pixel-size-cases.ts <folder>');
  for (const c of goldenCases) writeFileSync(join(dir, fileName(c)), await encodeCase(c));
}
