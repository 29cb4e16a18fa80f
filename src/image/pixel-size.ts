/**
 * The physical size of a pixel: what `load` reads from a file's calibration
 * (src/io/pixel-size.ts), what `save` writes back and what measurements turn into
 * micrometres. A type of its own so that kernels and the Sample record can name it
 * without reaching up into I/O.
 */

/** Micrometres per pixel along y (row height) and x (column width). */
export interface PixelSize {
  readonly y: number;
  readonly x: number;
}
