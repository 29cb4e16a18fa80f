/**
 * What a watch ledger holds once read, the same for the CLI's file (ledger.ts) and a
 * page's (src/web/host/ledger.ts): the latest entry of each path, done entries by content
 * hash (to recognise renamed and copied files), and the reading itself, which mends a
 * last line torn mid-append and sets aside the lines that do not decode. No Node module.
 */
import type { LedgerStore } from '../host/ledger-store.js';
import { LedgerEntryCodec, readLines } from './ledger-lines.js';
import { mendedText, type LedgerEntry } from './ledger-rule.js';

export class LedgerEntries {
  /** Paths of done entries by content hash. */
  private readonly byHash = new Map<string, Set<string>>();
  private readonly latest = new Map<string, LedgerEntry>();

  constructor(entries: Iterable<LedgerEntry> = []) {
    for (const e of entries) this.set(e);
  }

  get size(): number {
    return this.latest.size;
  }

  get(path: string): LedgerEntry | undefined {
    return this.latest.get(path);
  }

  values(): IterableIterator<LedgerEntry> {
    return this.latest.values();
  }

  /** `entry` becomes its path's latest. */
  set(entry: LedgerEntry): void {
    const previous = this.latest.get(entry.path);
    if (previous?.hash && previous.hash !== entry.hash) this.byHash.get(previous.hash)?.delete(entry.path);
    this.latest.set(entry.path, entry);
    if (entry.status !== 'done' || !entry.hash) return;
    let paths = this.byHash.get(entry.hash);
    if (!paths) this.byHash.set(entry.hash, (paths = new Set()));
    paths.add(entry.path);
  }

  /** A done entry with this content, if any. */
  doneWithHash(hash: string, size: number): LedgerEntry | undefined {
    for (const path of this.byHash.get(hash) ?? []) {
      const e = this.latest.get(path);
      if (e && e.status === 'done' && e.hash === hash && e.size === size) return e;
    }
    return undefined;
  }

  /** The ledger written afresh: the latest entries, a line each. */
  text(): string {
    return [...this.latest.values()].map((e) => JSON.stringify(e) + '\n').join('');
  }
}

export interface ReadLedger {
  readonly entries: LedgerEntries;
  /** Lines read, superseded ones included. */
  readonly lines: number;
  /** Lines that did not decode (kept in `aside` where given), left out of `entries`. */
  readonly unreadable: number;
  /** What was found wrong and mended, one sentence each, for the run's log. */
  readonly recovered: string[];
}

/** Reads the ledger in `store`, mending a torn last line there; `aside` keeps the lines that do not decode. */
export async function readLedger(store: LedgerStore, aside?: LedgerStore): Promise<ReadLedger> {
  const bytes = await store.read();
  const read = readLines(LedgerEntryCodec, bytes);
  const where = aside ? `kept in ${aside.name}` : 'dropped';
  const recovered = read.unreadable.map(
    (u) => `ledger ${store.name} line ${u.line}: unreadable, skipped (${u.why}); ${where}; the file it recorded is processed again if it is still there`,
  );
  // Kept aside for whoever wants to look, and out of the ledger (the caller compacts it), so that it is said once.
  if (read.unreadable.length && aside) await aside.append(read.unreadable.map((u) => `${new Date().toISOString()} line ${u.line}: ${u.text}\n`).join(''));
  if (read.tail) {
    await store.replace(mendedText(bytes, read.tail));
    recovered.push(
      read.tail.readable
        ? `ledger ${store.name} line ${read.tail.line}: its newline was missing (a run stopped while appending it): added`
        : `ledger ${store.name} line ${read.tail.line}: torn (${read.tail.bytes} bytes without a newline, left by a run that stopped while appending it): removed; the file it recorded is processed again`,
    );
  }
  return { entries: new LedgerEntries(read.lines), lines: read.lines.length, unreadable: read.unreadable.length, recovered };
}
