/**
 * The largest image a run decodes. A file's header can claim any size: a 1 MB tiled
 * TIFF of compressed zeros may claim 100000 x 100000 pixels, and decoding it would take
 * the machine's memory and kill the run (and, under a supervisor that restarts it,
 * kill it again at every start). The size is read from the header (sharp's metadata,
 * which decodes nothing) and refused before decoding when its samples, as the float32
 * values every step works on, would take more than the limit.
 *
 * The limit is a quarter of the memory the process may use (the machine's, or its
 * cgroup's when lower): the run holds the image, its probabilities and its masks at
 * once, for `concurrency` files. `UNETFLOW_MAX_IMAGE_BYTES` (bytes, or with a K, M, G
 * or T suffix, powers of 1024) sets it.
 */
import { totalmem } from 'node:os';
import { formatBytes, parseBytes, refuseOversizedWithin, type ClaimedSize, type DecodeLimit } from './image-budget.js';

export { formatBytes, parseBytes, type ClaimedSize, type DecodeLimit } from './image-budget.js';

export const LIMIT_VARIABLE = 'UNETFLOW_MAX_IMAGE_BYTES';

export function decodeLimit(env: NodeJS.ProcessEnv = process.env): DecodeLimit {
  const set = env[LIMIT_VARIABLE];
  if (set !== undefined && set !== '') {
    const bytes = parseBytes(set);
    if (bytes === undefined) throw new Error(`${LIMIT_VARIABLE}=${set}: expected a number of bytes, e.g. 8G or 8589934592`);
    return { bytes, why: `${LIMIT_VARIABLE}=${set}` };
  }
  const machine = totalmem();
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const memory = constrained && constrained > 0 && constrained < machine ? constrained : machine;
  const of = memory === machine ? "the machine's" : "the process's cgroup's";
  return { bytes: Math.floor(memory / 4), why: `a quarter of ${of} ${formatBytes(memory)} of memory; ${LIMIT_VARIABLE} sets it` };
}

/** Throws a SampleError naming the file, the step and the size when one page of this size would not fit the limit. */
export function refuseOversized(path: string, step: string, size: ClaimedSize, limit: DecodeLimit = decodeLimit()): void {
  refuseOversizedWithin(path, step, size, limit);
}
