/**
 * What `unetflow status --queue URL` shows for each pipeline queue in a Redis: jobs
 * waiting (delayed retries included) and active, inputs done and failed (the ledger),
 * and the workers connected.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueConnection } from './connection.js';
import { keys, PREFIX } from './keys.js';
import type { LedgerEntry } from '../pipeline/ledger.js';

export interface QueueStatus {
  readonly queue: string;
  readonly waiting: number;
  readonly active: number;
  readonly done: number;
  readonly failed: number;
  /** `host:pid` of each connected worker. */
  readonly workers: readonly string[];
}

/** The unetflow queues in this Redis: those BullMQ has metadata for. */
export async function queueNames(redis: Redis): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*:meta`, 'COUNT', 500);
    cursor = next;
    for (const key of batch) found.add(key.slice(PREFIX.length + 1, -':meta'.length));
  } while (cursor !== '0');
  return [...found].sort();
}

export async function queueStatus(redis: Redis, connection: QueueConnection, name: string): Promise<QueueStatus> {
  const queue = new Queue(name, { connection: connection.options, prefix: PREFIX });
  try {
    const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active');
    const workers = (await queue.getWorkers()).map((w) => String(w.rawname ?? w.name ?? w.id ?? '')).map(workerLabel);
    let done = 0;
    let failed = 0;
    for (const text of await redis.hvals(keys(name).ledger)) {
      const e = JSON.parse(text) as LedgerEntry;
      if (e.status === 'done') done++;
      else failed++;
    }
    return { queue: name, waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0), active: counts.active ?? 0, done, failed, workers: [...new Set(workers)].sort() };
  } finally {
    await queue.close();
  }
}

/** BullMQ names a worker's connection `<prefix>:<queue, base64>:w:<name>`: the name is ours. */
function workerLabel(clientName: string): string {
  const at = clientName.lastIndexOf(':w:');
  return at >= 0 ? clientName.slice(at + 3) : clientName;
}
