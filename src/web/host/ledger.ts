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
import { LedgerEntries, readLedger } from '../../pipeline/ledger-entries.js';
import { checkFile, sameContentEntry, type CheckResult, type FileLook, type Fingerprint, type LedgerEntry } from '../../pipeline/ledger-rule.js';

export class FolderLedger {
  private constructor(
    private readonly store: LedgerStore,
    private readonly look: FileLook,
    private readonly entries: LedgerEntries,
    /** What opening found wrong and mended, one sentence each, for the run's log. */
    readonly recovered: readonly string[],
  ) {}

  /** The ledger of `input`'s files kept in `store`; `aside` keeps lines that could not be read. */
  static async open(store: LedgerStore, input: Folder, aside?: LedgerStore): Promise<FolderLedger> {
    const { entries, recovered, unreadable } = await readLedger(store, aside);
    if (unreadable) await store.replace(entries.text());
    return new FolderLedger(store, folderLook(input), entries, recovered);
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
    return checkFile(this.look, path, this.entries.get(path), (hash, size) => this.entries.doneWithHash(hash, size));
  }

  /** Records a file found to have the content of a done one: done, with the original's outputs and `sameAs` naming it. */
  recordSameContent(path: string, fingerprint: Fingerprint, original: LedgerEntry): Promise<LedgerEntry> {
    return this.record(path, sameContentEntry(path, fingerprint, original));
  }

  /** Appends the file's outcome; resolves once the store has it. */
  async record(path: string, entry: Omit<LedgerEntry, 'path' | 'time'>): Promise<LedgerEntry> {
    const full: LedgerEntry = { path, ...entry, time: new Date().toISOString() };
    this.entries.set(full);
    await this.store.append(JSON.stringify(full) + '\n');
    return full;
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
