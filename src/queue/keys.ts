/**
 * Names in Redis. Every key starts with `unetflow:` and the queue's name, which is the
 * pipeline's: several pipelines share one Redis. BullMQ owns `unetflow:<queue>:<its
 * suffixes>` (wait, active, events, meta…); ours use suffixes it does not.
 */
export const PREFIX = 'unetflow';

/** The BullMQ queue of a pipeline: its name, with what BullMQ refuses in a name (`:`) and spaces replaced. */
export function queueName(pipelineName: string): string {
  return pipelineName.replace(/[^A-Za-z0-9._-]/g, '_');
}

export const keys = (queue: string) => ({
  /** Hash: input path (relative to the source folder) -> ledger entry JSON. */
  ledger: `${PREFIX}:${queue}:ledger`,
  /** Set per content hash: paths whose done entry had it (checked against the entry on reading). */
  doneWithHash: (hash: string) => `${PREFIX}:${queue}:ledger-hash:${hash}`,
  /** Stream: what workers report to producers (relay.ts). */
  relay: `${PREFIX}:${queue}:relay`,
  /** Hash: output stem (as compared: cut, lower case) -> the input path holding it (stems.ts). */
  stems: `${PREFIX}:${queue}:stems`,
  /** String per input path: `<job id> <token>` of the job writing its outputs now (hold.ts). */
  writer: (key: string) => `${PREFIX}:${queue}:writer:${key}`,
  /** BullMQ's lock of a job: the token of the worker holding it, while it holds it. */
  jobLock: (id: string) => `${PREFIX}:${queue}:${id}:lock`,
  /** What precedes a job id in BullMQ's key of its lock (for scripts that build it). */
  jobPrefix: `${PREFIX}:${queue}:`,
});
