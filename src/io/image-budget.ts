/**
 * The rule of decode-limit.ts without the machine's memory: a header's claimed size,
 * as float32 samples, against a limit the host gives (Node: its memory; a page: its own).
 */
import { SampleError } from '../errors.js';

export interface DecodeLimit {
  readonly bytes: number;
  /** Where the limit comes from, for the message. */
  readonly why: string;
}

export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(text);
  if (!m) return undefined;
  const power = ' kmgt'.indexOf(m[2].toLowerCase() || ' ');
  return Math.floor(Number(m[1]) * 1024 ** power);
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), unit++;
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

export interface ClaimedSize {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** Throws a SampleError naming the file, the step and the size when one page of this size would not fit the limit. */
export function refuseOversizedWithin(path: string, step: string, size: ClaimedSize, limit: DecodeLimit): void {
  const samples = size.width * size.height * size.channels;
  const bytes = samples * 4;
  if (bytes <= limit.bytes) return;
  throw new SampleError(
    { step, file: path },
    `the image is ${size.width} x ${size.height} px, ${size.channels} channel${size.channels === 1 ? '' : 's'}: ${formatBytes(bytes)} as float32 samples, ` +
      `more than this run can hold (${formatBytes(limit.bytes)}: ${limit.why}); refused before decoding`,
  );
}
