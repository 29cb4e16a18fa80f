/**
 * What a job carries: paths relative to the source folder and hashes, never pixels.
 * Workers decode it before use: anyone who can write to the queue can write a job.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { closedObject } from '../codec/building-blocks.js';
import { formatPath, toIssues } from '../codec/report.js';

export const JobData = closedObject(
  'job',
  {
    /** pipelineHash of the producer's pipeline (job-id.ts). */
    pipeline: t.string,
    /** The input, relative to the source folder, '/'-separated. */
    path: t.string,
    /** sha256 of its content, and its size and mtime when enqueued. */
    hash: t.string,
    size: t.number,
    mtimeMs: t.number,
    /** The stem of its output names (output-names.ts), chosen by the producer. */
    stem: t.string,
  },
  {
    /** A pairs source's label, relative to the labels folder. */
    label: t.string,
  },
);
export type JobData = t.TypeOf<typeof JobData>;

/** The job's data, or why it is not a unetflow job. */
export function decodeJob(value: unknown): JobData | string {
  const r = JobData.decode(value);
  if (!isLeft(r)) return r.right;
  return toIssues(r.left).map((i) => `${formatPath(i.path) || 'job'}: ${i.message}`).join('; ');
}
