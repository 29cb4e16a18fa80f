/**
 * Job ids: the same pipeline and the same input content give the same id, on any
 * machine, so BullMQ adds a file enqueued twice (two producers, a restart, a rename)
 * only once. The pipeline's hash covers what decides the outputs, as resolved (after
 * ${NAME} and --set): its steps, seed, on-error, epochs and custom operator modules. It
 * leaves out what may differ between machines or does not change a result: the source
 * (each machine names the shared folder its own way; jobs carry paths relative to it),
 * the queue section, concurrency and the description.
 */
import { createHash } from 'node:crypto';
import type { PipelineDefinition } from '../pipeline/definition.js';

const LEFT_OUT = new Set(['source', 'queue', 'concurrency', 'description']);

export function pipelineHash(definition: PipelineDefinition): string {
  const kept = Object.fromEntries(Object.entries(definition).filter(([key]) => !LEFT_OUT.has(key)));
  return sha256(canonicalJson(kept));
}

/** The job of an input: hex, so that BullMQ never mistakes it for its own numeric ids. */
export function jobId(pipeline: string, contentSha256: string): string {
  return sha256(`${pipeline}\n${contentSha256}`);
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
