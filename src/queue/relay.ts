/**
 * Workers' reports to producers: a Redis stream (`unetflow:<queue>:relay`) of
 * `file-done` / `file-failed` events, each with its job id and input path.
 *
 * A stream rather than BullMQ's QueueEvents (pub/sub-like, read from "now"): entries
 * stay in Redis (and in its append-only file), so a producer that reads from where it
 * stood misses none while it reconnects after a Redis restart, and a producer that
 * starts again re-reads from where it notes its position, before it checks the ledger
 * (see RedisLedger: entry and report are written together).
 */
import type { Redis } from 'ioredis';
import * as t from 'io-ts';
import { decodeStored } from '../codec/stored.js';
import { show } from '../codec/building-blocks.js';
import { eventCodecs, type RunEvent } from '../events.js';
import { keys } from './keys.js';

export interface Relayed {
  readonly job: string;
  /** The input's path relative to the source folder. */
  readonly key: string;
  readonly event: Extract<RunEvent, { type: 'file-done' | 'file-failed' }>;
}

/** A report's event, checked by the codec of the type it gives (a union would report every member's complaints). */
const ReportEvent = new t.Type<Relayed['event'], unknown, unknown>(
  'report event',
  (u): u is Relayed['event'] => eventCodecs['file-done'].is(u) || eventCodecs['file-failed'].is(u),
  (u, c) => {
    const type = (u as { type?: unknown } | null)?.type;
    if (type === 'file-done' || type === 'file-failed') return eventCodecs[type].validate(u, c) as t.Validation<Relayed['event']>;
    return t.failure(u, c, `expected a file-done or file-failed event, got ${show(u)}`);
  },
  t.identity,
);

/** A stream entry's fields, its event parsed: what `relayAdd` writes. */
const RelayedCodec = t.type({ job: t.string, key: t.string, event: ReportEvent });

/**
 * XADD's arguments for a report: the stream trimmed to about its last 100,000 reports
 * (a producer reads on from its position long before that), then the entry's fields.
 */
export function relayAdd(stream: string, r: Relayed): [string, 'MAXLEN', '~', string, '*', ...string[]] {
  return [stream, 'MAXLEN', '~', '100000', '*', 'job', r.job, 'key', r.key, 'event', JSON.stringify(r.event)];
}

/** Publishes a report without a ledger entry (a job the worker refused). */
export async function publish(redis: Redis, queue: string, r: Relayed): Promise<void> {
  await redis.xadd(...relayAdd(keys(queue).relay, r));
}

/**
 * Reads reports from the moment `open` returns. Give it a connection of its own: it
 * blocks on XREAD.
 */
export class RelayReader {
  private constructor(
    private readonly redis: Redis,
    private readonly stream: string,
    private position: string,
  ) {}

  static async open(redis: Redis, queue: string): Promise<RelayReader> {
    const stream = keys(queue).relay;
    const [last] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
    return new RelayReader(redis, stream, last ? last[0] : '0-0');
  }

  /**
   * The next reports, waiting up to `blockMs` for some; [] when none came. An entry that
   * is not a report fails the call that reaches it first, naming the stream and the
   * entry; the reports before it come first, and the next call goes on after it.
   */
  async next(blockMs: number): Promise<Relayed[]> {
    const reply = await this.redis.xread('COUNT', 500, 'BLOCK', blockMs, 'STREAMS', this.stream, this.position);
    const out: Relayed[] = [];
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        let report: Relayed;
        try {
          report = decodeReport(fields, `Redis stream ${this.stream}, entry ${id}`);
        } catch (error) {
          if (out.length) return out;
          this.position = id;
          throw error;
        }
        this.position = id;
        out.push(report);
      }
    }
    return out;
  }
}

/** A stream entry's fields (name, value, name, value...) as the report they hold. */
function decodeReport(fields: readonly string[], where: string): Relayed {
  const f: Record<string, unknown> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  if (typeof f.event === 'string') {
    try {
      f.event = JSON.parse(f.event);
    } catch {
      // Left a string: the codec says what was expected.
    }
  }
  return decodeStored(RelayedCodec, f, where, "a worker's report");
}
