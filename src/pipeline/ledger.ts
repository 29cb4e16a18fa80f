/**
 * The watch-mode ledger: one JSON line per processed input (path, size, mtime,
 * content hash, outputs, status), appended and flushed as each file finishes, so
 * that after a restart nothing done is done again and nothing changed is skipped.
 *
 * Append-only JSONL survives a crash mid-write: a torn last line is ignored on
 * reading, and the file it described is simply processed again.
 *
 * A file is known by its path, and also by its content: a file renamed or copied
 * within the watched folder whose sha256 equals a done entry's is not processed again
 * but recorded under its new path, with the original's outputs and `sameAs`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { acquireLock, type Lock } from '../io/lock.js';

export interface Fingerprint {
  readonly size: number;
  readonly mtimeMs: number;
  /** sha256 of the content, hex; computed only when size or mtime differ from the ledger's. */
  readonly hash?: string;
}

export interface LedgerEntry extends Fingerprint {
  /** Path relative to the watched folder, '/'-separated. */
  readonly path: string;
  readonly status: 'done' | 'failed';
  readonly outputs: Readonly<Record<string, string>>;
  readonly error?: string;
  /** Set when this file was not processed because its content equals that of the (done) file at this path. */
  readonly sameAs?: string;
  /** The stem the run gave its output names (output-names.ts), kept so that a restart gives it again. */
  readonly stem?: string;
  /** Done entries: the file's time in the run and the objects its steps found (file-done's `seconds`, `objects`), for the live page. */
  readonly seconds?: number;
  readonly objects?: number;
  readonly time: string;
}

/**
 * What `check` found. To process: `new` (unknown path and content) or `changed`. To skip:
 * `done` (recorded as done, unchanged), `same-content` (an unknown path whose content
 * equals a done file's, given as `entry`; record it with `recordSameContent`),
 * `failed-before` (recorded as failed, unchanged: not retried until it changes).
 */
export type CheckResult =
  | { readonly process: true; readonly reason: 'new' | 'changed'; readonly fingerprint: Fingerprint }
  | { readonly process: false; readonly reason: 'done' | 'same-content' | 'failed-before'; readonly fingerprint: Fingerprint; readonly entry: LedgerEntry };

export class Ledger {
  private constructor(
    readonly file: string,
    readonly root: string,
    private readonly entries: Map<string, LedgerEntry>,
  ) {
    for (const e of entries.values()) this.index(e);
  }

  /** Paths of done entries by content hash, to recognise renamed and copied files. */
  private readonly byHash = new Map<string, Set<string>>();

  /** Reads the ledger (creating its folder), compacting it when superseded lines dominate. */
  static async open(file: string, root: string): Promise<Ledger> {
    await mkdir(dirname(file), { recursive: true });
    const entries = new Map<string, LedgerEntry>();
    let lines = 0;
    try {
      for (const line of (await readFile(file, 'utf8')).split('\n')) {
        if (!line.trim()) continue;
        lines++;
        try {
          const e = JSON.parse(line) as LedgerEntry;
          if (typeof e.path === 'string' && (e.status === 'done' || e.status === 'failed')) entries.set(e.path, e);
        } catch {
          // A line torn by a crash: its file is processed again.
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const ledger = new Ledger(file, resolve(root), entries);
    if (lines > 2 * entries.size + 100) await ledger.compact();
    return ledger;
  }

  key(path: string): string {
    return relative(this.root, resolve(path)).split(sep).join('/');
  }

  get(path: string): LedgerEntry | undefined {
    return this.entries.get(this.key(path));
  }

  get size(): number {
    return this.entries.size;
  }

  /** The latest entry of every path, with its absolute path. */
  *list(): IterableIterator<LedgerEntry & { readonly absolutePath: string }> {
    for (const e of this.entries.values()) yield { ...e, absolutePath: resolve(this.root, e.path) };
  }

  /**
   * Whether `path` must be processed, and why (see CheckResult and checkFile).
   */
  check(path: string): Promise<CheckResult> {
    return checkFile(path, this.get(path), (hash, size) => this.doneWithHash(hash, size));
  }

  /** Records a file found by `check` to have the content of a done one: done, with the original's outputs and `sameAs` naming it. */
  recordSameContent(path: string, fingerprint: Fingerprint, original: LedgerEntry): Promise<LedgerEntry> {
    return this.record(path, sameContentEntry(this.key(path), fingerprint, original));
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

  /** Appends an entry and flushes it to disk before returning. */
  async record(path: string, entry: Omit<LedgerEntry, 'path' | 'time'>): Promise<LedgerEntry> {
    const full: LedgerEntry = { path: this.key(path), ...entry, time: new Date().toISOString() };
    const previous = this.entries.get(full.path);
    if (previous?.hash && previous.hash !== full.hash) this.byHash.get(previous.hash)?.delete(full.path);
    this.entries.set(full.path, full);
    this.index(full);
    const handle = await open(this.file, 'a');
    try {
      await handle.appendFile(JSON.stringify(full) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    return full;
  }

  private async compact(): Promise<void> {
    const text = [...this.entries.values()].map((e) => JSON.stringify(e) + '\n').join('');
    await writeFileAtomic(this.file, text);
  }
}

/**
 * `check`'s rule, for any ledger (this file's, and the queue's in Redis): size and mtime
 * unchanged means unchanged; otherwise the content hash decides (a file copied again
 * with the same bytes is not redone). An unknown path is looked up by its hash among the
 * done files (`doneWithHash`): a renamed or copied file is not processed again.
 */
export async function checkFile(
  path: string,
  known: LedgerEntry | undefined,
  doneWithHash: (hash: string, size: number) => LedgerEntry | undefined | Promise<LedgerEntry | undefined>,
): Promise<CheckResult> {
  const s = await stat(path);
  const quick = { size: s.size, mtimeMs: s.mtimeMs };
  const unchanged = (entry: LedgerEntry, fingerprint: Fingerprint) =>
    ({ process: false, reason: entry.status === 'done' ? 'done' : 'failed-before', fingerprint, entry }) as const;
  if (known && known.size === s.size && known.mtimeMs === s.mtimeMs) return unchanged(known, { ...quick, hash: known.hash });
  const fingerprint = { ...quick, hash: await hashFile(path) };
  if (known) return known.hash === fingerprint.hash ? unchanged(known, fingerprint) : { process: true, reason: 'changed', fingerprint };
  // Only for an unknown path: a known one whose content changed has outputs of the old content to replace.
  const original = await doneWithHash(fingerprint.hash, s.size);
  if (original) return { process: false, reason: 'same-content', fingerprint, entry: original };
  return { process: true, reason: 'new', fingerprint };
}

/** The entry of a file (`key`) whose content is that of the done `original`: done, with its outputs and `sameAs` naming the first original. */
export function sameContentEntry(key: string, fingerprint: Fingerprint, original: LedgerEntry): Omit<LedgerEntry, 'path' | 'time'> {
  // The first original, unless that is this very path (its own line was deleted to redo it, and a copy's was not).
  const first = original.sameAs && original.sameAs !== key ? original.sameAs : original.path;
  return { ...fingerprint, status: 'done', outputs: original.outputs, sameAs: first };
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Takes `<ledger>.lock`: two watch runs on one ledger would process every file twice. */
export function lockLedger(file: string, onLost?: (message: string) => void): Promise<Lock> {
  return acquireLock(`${file}.lock`, {
    guards: `the ledger ${file}`,
    because: 'two watch runs on one ledger would each process every file',
    otherwise: 'give this run another ledger (or save.dir)',
    ...(onLost ? { onLost } : {}),
  });
}
