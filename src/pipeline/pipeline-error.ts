/**
 * The error of a pipeline that cannot run as written: every problem found, each with
 * file:line:column and the step path, so that a user fixes them all in one go.
 */
import { formatPath } from '../codec/report.js';
import type { Problem } from './document.js';

export class PipelineError extends Error {
  override readonly name = 'PipelineError';
  /** The CLI's exit code: the pipeline file, the command line or what they name is wrong. */
  readonly exitCode = 2;
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
  }
}

export function formatProblem(file: string, p: Problem): string {
  const where = p.line !== undefined ? `${file}:${p.line}:${p.column}` : file;
  const path = formatPath(p.path);
  return `${where} ${path ? path + ': ' : ''}${p.message}`;
}
