/**
 * Errors users see. Every message is assembled here so that they read alike:
 * `<step>: <file>: <what was expected>`, with the original error kept as `cause`.
 */

import { basename, extname } from 'node:path';

export interface Where {
  /** The pipeline step, e.g. `load` or `steps[2].tile`. */
  readonly step?: string;
  /** The input file the failing sample came from. */
  readonly file?: string;
  /** The sample id, when it says more than the file (a page, a tile). */
  readonly sample?: string;
}

/** A failure of one sample at one step; the pipeline can record it and go on. */
export class SampleError extends Error {
  override readonly name = 'SampleError';
  readonly step?: string;
  readonly file?: string;
  readonly sample?: string;

  constructor(where: Where, message: string, options?: { cause?: unknown }) {
    super(formatWhere(where) + message, options);
    this.step = where.step;
    this.file = where.file;
    this.sample = where.sample;
  }

  /** Wraps any thrown value once: an existing SampleError passes through unchanged. */
  static wrap(where: Where, error: unknown): SampleError {
    if (error instanceof SampleError) return error;
    return new SampleError(where, messageOf(error), { cause: error });
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, step: this.step, file: this.file, sample: this.sample };
  }
}

/** A problem with how something was configured, found before any sample flows. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function formatWhere(where: Where): string {
  // The sample id adds something only when it is more than the file's name (a page, a tile).
  const stem = where.file ? basename(where.file, extname(where.file)) : undefined;
  const parts = [where.step, where.file, where.sample && where.sample !== stem ? `sample ${where.sample}` : undefined];
  const prefix = parts.filter(Boolean).join(': ');
  return prefix ? `${prefix}: ` : '';
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
