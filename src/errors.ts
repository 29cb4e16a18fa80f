/**
 * Errors users see. Every message is assembled here so that they read alike:
 * `<step>: <file>: <what was expected>`, with the original error kept as `cause`.
 */


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

  /** For error reports: where, what, and the causes' own detail (stacks included), which terminals are spared. */
  toJSON(): Record<string, unknown> {
    const detail = detailOf(this.cause);
    return { name: this.name, message: this.message, step: this.step, file: this.file, sample: this.sample, ...(detail ? { detail } : {}) };
  }
}

/**
 * A problem with how something was configured, found before any sample flows, or a
 * resource the pipeline names (a model) that fails while running: the pipeline's
 * fault, never recorded against an input file. Exit code 2.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly exitCode = 2;
}

/** The most links of a cause chain that are looked at: enough for any real wrapping, and an end to chains that loop back. */
export const MAX_CAUSES = 8;

/**
 * An error and the causes it wraps, outermost first, at most MAX_CAUSES of them. Only an
 * Error's `cause` is followed: a thrown string or plain object ends the chain.
 */
export function* causes(error: unknown): Generator<unknown> {
  let e = error;
  for (let depth = 0; e && depth < MAX_CAUSES; depth++) {
    yield e;
    if (!(e instanceof Error)) return;
    e = e.cause;
  }
}

/** Whether a failure comes from the pipeline (a ConfigError in its causes) rather than from the input file. */
export function isPipelineFault(error: unknown): boolean {
  for (const e of causes(error)) if (e instanceof ConfigError) return true;
  return false;
}

/** The CLI's exit code for an error that ended a run: the first `exitCode` in its causes (2 pipeline, 3 in use), else 1. */
export function exitCodeOf(error: unknown): number {
  for (const e of causes(error)) {
    const code = (e as { exitCode?: unknown }).exitCode;
    if (typeof code === 'number') return code;
  }
  return 1;
}

/** The chain of causes with their stacks and any `detail` they carry, for a report. */
function detailOf(cause: unknown): string | undefined {
  const parts: string[] = [];
  for (const e of causes(cause)) {
    if (!(e instanceof Error)) {
      parts.push(String(e));
      continue;
    }
    const extra = (e as { detail?: unknown }).detail;
    parts.push(e.stack ?? e.message, ...(typeof extra === 'string' ? [extra] : []));
  }
  return parts.length ? parts.join('\n--- caused by ---\n') : undefined;
}

function formatWhere(where: Where): string {
  // The sample id adds something only when it is more than the file's name (a page, a tile).
  const stem = where.file ? stemOf(where.file) : undefined;
  const parts = [where.step, where.file, where.sample && where.sample !== stem ? `sample ${where.sample}` : undefined];
  const prefix = parts.filter(Boolean).join(': ');
  return prefix ? `${prefix}: ` : '';
}

/** The file's name without folder and extension, as node:path's basename(f, extname(f)) gives it, in code that also runs in a page. */
function stemOf(file: string): string {
  const name = file.slice(file.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
