/**
 * A plan's queue settings: the URL from --queue or the `queue:` section (--queue wins),
 * and the timings, BullMQ's defaults unless the section sets them.
 */
import { ConfigError } from '../errors.js';
import { PipelineError } from '../pipeline/pipeline-error.js';
import type { Plan } from '../pipeline/plan.js';
import { queueProblems } from '../pipeline/checks.js';
import { parseQueueUrl, type QueueConnection } from './connection.js';
import { pipelineHash } from './job-id.js';
import { queueName } from './keys.js';

export interface QueueSettings {
  readonly connection: QueueConnection;
  readonly queue: string;
  readonly pipelineHash: string;
  readonly lockMs: number;
  readonly stalledMs: number;
  readonly maxStalled: number;
  readonly attempts: number;
  readonly backoffMs: number;
}

/** Whether a run goes through a queue: --queue given, or a `queue:` section. */
export function usesQueue(plan: Plan, url?: string): boolean {
  return Boolean(url) || plan.definition.queue !== undefined;
}

/** The settings, or a ConfigError when no URL is given; a PipelineError for a step that cannot run through a queue. */
export function queueSettings(plan: Plan, url?: string): QueueSettings {
  const problems = queueProblems(plan);
  if (problems.length) throw new PipelineError(plan.file, problems);
  const section = plan.definition.queue;
  const s = typeof section === 'string' ? { url: section } : (section ?? {});
  const chosen = url ?? s.url;
  if (!chosen) throw new ConfigError(`${plan.file}: queue: names no url; give one there or with --queue redis://host:6379/0`);
  return {
    connection: parseQueueUrl(chosen),
    queue: queueName(plan.definition.name),
    pipelineHash: pipelineHash(plan.definition),
    lockMs: s.lockMs ?? 30_000,
    stalledMs: s.stalledMs ?? 30_000,
    maxStalled: s.maxStalled ?? 1,
    attempts: s.attempts ?? 5,
    backoffMs: s.backoffMs ?? 1000,
  };
}
