/**
 * A watch ledger in a page: the CLI's file (`.unetflow-ledger.jsonl` in the output
 * folder, the same lines, decoded by the same codec) and the CLI's rule (ledger-rule.ts),
 * so that a folder half done in the page and finished by the CLI, or the other way
 * round, or after a reload, has no image done twice and none lost. Paths are the input
 * folder's ('/'-separated, relative to it), which are the keys the CLI gives them when it
 * watches that folder.
 *
 * As in the CLI, a last line torn mid-append is mended (completed or cut) before anything
 * is appended after it, and lines that do not decode are reported by number, kept in
 * `<ledger>.unreadable` and left out of the ledger, which is then compacted. Not kept
 * here: the CLI's in-flight notes, which count the runs that died on a file; a tab
 * closed mid-file leaves no record of it and the file is simply redone.
 */
import type { Folder } from '../../host/folder.js';
import type { LedgerStore } from '../../host/ledger-store.js';
import { LedgerEntryCodec, readLines } from '../../pipeline/ledger-lines.js';
import { checkFile, mendedText, sameContentEntry, type CheckResult, type FileLook, type Fingerprint, type LedgerEntry } from '../../pipeline/ledger-rule.js';

export class FolderLedger {
  private readonly byHash = new Map<string, Set<string>>();

  private constructor(
    private readonly store: LedgerStore,
    private readonly look: FileLook,
    private readonly entries: Map<string, LedgerEntry>,
    /** What opening found wrong and mended, one sentence each, for the run's log. */
    readonly recovered: readonly string[],
  ) {
    for (const e of entries.values()) this.index(e);
  }

  /** The ledger of `input`'s files kept in `store`; `aside` keeps lines that could not be read. */
  static async open(store: LedgerStore, input: Folder, aside?: LedgerStore): Promise<FolderLedger> {
    const bytes = await store.read();
    const read = readLines(LedgerEntryCodec, bytes);
    const entries = new Map<string, LedgerEntry>();
    for (const entry of read.lines) entries.set(entry.path, entry);
    const where = aside ? `kept in ${aside.name}` : 'dropped';
    const recovered = read.unreadable.map(
      (u) => `ledger ${store.name} line ${u.line}: unreadable, skipped (${u.why}); ${where}; the file it recorded is processed again if it is still there`,
    );
    if (read.unreadable.length && aside) await aside.append(read.unreadable.map((u) => `${new Date().toISOString()} line ${u.line}: ${u.text}\n`).join(''));
    if (read.tail) {
      await store.replace(mendedText(bytes, read.tail));
      recovered.push(
        read.tail.readable
          ? `ledger ${store.name} line ${read.tail.line}: its newline was missing (a run stopped while appending it): added`
          : `ledger ${store.name} line ${read.tail.line}: torn (${read.tail.bytes} bytes without a newline, left by a run that stopped while appending it): removed; the file it recorded is processed again`,
      );
    }
    const ledger = new FolderLedger(store, folderLook(input), entries, recovered);
    if (read.unreadable.length) await store.replace([...entries.values()].map((e) => JSON.stringify(e) + '\n').join(''));
    return ledger;
  }

  get size(): number {
    return this.entries.size;
  }

  get(path: string): LedgerEntry | undefined {
    return this.entries.get(path);
  }

  list(): IterableIterator<LedgerEntry> {
    return this.entries.values();
  }

  /** Whether the input file at `path` must be processed, and why: the CLI's rule. */
  check(path: string): Promise<CheckResult> {
    return checkFile(this.look, path, this.entries.get(path), (hash, size) => this.doneWithHash(hash, size));
  }

  /** Records a file found to have the content of a done one: done, with the original's outputs and `sameAs` naming it. */
  recordSameContent(path: string, fingerprint: Fingerprint, original: LedgerEntry): Promise<LedgerEntry> {
    return this.record(path, sameContentEntry(path, fingerprint, original));
  }

  /** Appends the file's outcome; resolves once the store has it. */
  async record(path: string, entry: Omit<LedgerEntry, 'path' | 'time'>): Promise<LedgerEntry> {
    const full: LedgerEntry = { path, ...entry, time: new Date().toISOString() };
    const previous = this.entries.get(path);
    if (previous?.hash && previous.hash !== full.hash) this.byHash.get(previous.hash)?.delete(path);
    this.entries.set(path, full);
    this.index(full);
    await this.store.append(JSON.stringify(full) + '\n');
    return full;
  }

  private doneWithHash(hash: string, size: number): LedgerEntry | undefined {
    for (const path of this.byHash.get(hash) ?? []) {
      const e = this.entries.get(path);
      if (e && e.status === 'done' && e.hash === hash && e.size === size) return e;
    }
    return undefined;
  }

  private index(e: LedgerEntry): void {
    if (e.status !== 'done' || !e.hash) return;
    let paths = this.byHash.get(e.hash);
    if (!paths) this.byHash.set(e.hash, (paths = new Set()));
    paths.add(e.path);
  }
}

/** The rule's look at a file of a folder: its stat (a missing file is an error naming it) and its sha256. */
export function folderLook(folder: Folder): FileLook {
  return {
    stat: async (path) => {
      const s = await folder.stat(path);
      if (!s) throw new Error(`${folder.name}/${path}: file not found`);
      return s;
    },
    hash: async (path) => sha256Hex(await folder.read(path)),
  };
}

/** sha256 of bytes in hex, with the Web Crypto API the page (and Node) has. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
