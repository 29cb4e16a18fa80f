/**
 * The ledger of a queue, in Redis: the file ledger's semantics (ledger.ts: done,
 * failed until changed, redone when changed, the same content under another name not
 * done again) shared by every producer and worker of a pipeline. Entries are keyed by
 * the input's path relative to the source folder, so that machines that mount the
 * shared folder at different places agree.
 *
 * A worker writes an entry and its report to producers in one transaction (`record`
 * with an event): a producer that finds no entry is sure to receive the event.
 */
import type { Redis } from 'ioredis';
import { parseStored } from '../codec/stored.js';
import { LedgerEntryCodec } from '../pipeline/ledger-lines.js';
import { checkFile, sameContentEntry, type CheckResult, type Fingerprint, type LedgerEntry } from '../pipeline/ledger.js';
import type { JobHold } from './hold.js';
import { keys } from './keys.js';
import { keyOf } from './roots.js';
import { relayAdd, type Relayed } from './relay.js';

export class RedisLedger {
  private readonly keys: ReturnType<typeof keys>;

  constructor(
    private readonly redis: Redis,
    queue: string,
    /** The source folder, on this machine. */
    readonly root: string,
  ) {
    this.keys = keys(queue);
  }

  key(path: string): string {
    return keyOf(this.root, path);
  }

  async get(path: string): Promise<LedgerEntry | undefined> {
    return this.getKey(this.key(path));
  }

  /** The entry of the input at `key`; an entry that is not one fails, naming the hash and the field. */
  async getKey(key: string): Promise<LedgerEntry | undefined> {
    const text = await this.redis.hget(this.keys.ledger, key);
    return text ? this.decode(key, text) : undefined;
  }

  /** Every entry (for restoring output names, and `status`). */
  async list(): Promise<LedgerEntry[]> {
    return Object.entries(await this.redis.hgetall(this.keys.ledger)).map(([key, text]) => this.decode(key, text));
  }

  private decode(key: string, text: string): LedgerEntry {
    return parseStored(LedgerEntryCodec, text, `Redis hash ${this.keys.ledger}, field ${JSON.stringify(key)}`, 'a ledger entry');
  }

  /** Whether `path` must be processed, and why: the file ledger's rule (checkFile). */
  async check(path: string): Promise<CheckResult> {
    return checkFile(path, await this.get(path), (hash, size) => this.doneWithHash(hash, size));
  }

  recordSameContent(path: string, fingerprint: Fingerprint, original: LedgerEntry): Promise<LedgerEntry> {
    return this.recordKey(this.key(path), sameContentEntry(this.key(path), fingerprint, original));
  }

  /**
   * Writes the entry of the input at `key` and, in the same transaction, the report producers read;
   * with `hold`, only while that worker still holds the job (hold.ts), else WriteRefused.
   */
  async recordKey(key: string, entry: Omit<LedgerEntry, 'path' | 'time'>, report?: Relayed, hold?: JobHold): Promise<LedgerEntry> {
    const full: LedgerEntry = { path: key, ...entry, time: new Date().toISOString() };
    if (hold) {
      await hold.write([
        ['HSET', this.keys.ledger, key, JSON.stringify(full)],
        ...(full.status === 'done' && full.hash ? [['SADD', this.keys.doneWithHash(full.hash), key]] : []),
        ...(report ? [['XADD', ...relayAdd(this.keys.relay, report)]] : []),
      ]);
      return full;
    }
    const multi = this.redis.multi().hset(this.keys.ledger, key, JSON.stringify(full));
    if (full.status === 'done' && full.hash) multi.sadd(this.keys.doneWithHash(full.hash), key);
    if (report) multi.xadd(...relayAdd(this.keys.relay, report));
    const results = await multi.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
    return full;
  }

  private async doneWithHash(hash: string, size: number): Promise<LedgerEntry | undefined> {
    // A path whose entry has since changed stays in the set: its entry decides.
    for (const key of await this.redis.smembers(this.keys.doneWithHash(hash))) {
      const e = await this.getKey(key);
      if (e && e.status === 'done' && e.hash === hash && e.size === size) return e;
    }
    return undefined;
  }
}
