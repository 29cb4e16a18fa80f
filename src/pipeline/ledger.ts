/**
 * The watch-mode ledger: one JSON line per processed input (path, size, mtime,
 * content hash, outputs, status), appended and flushed as each file finishes, so
 * that after a restart nothing done is done again and nothing changed is skipped.
 *
 * Append-only JSONL survives a crash mid-write: on opening, a last line torn by a power
 * cut is removed (or, when only its newline is missing, completed) before anything is
 * appended after it, and a line that does not decode is reported by its number, moved
 * to `<ledger>.unreadable` and skipped; the files they described are simply processed
 * again. Every line is decoded
 * by a codec (ledger-lines.ts).
 *
 * A run notes each file as `started` before working on it, in `<ledger>.in-flight`
 * (the ledger itself holds outcomes only): a note still open at the next start means
 * the run died while processing that file (killed, out of memory, a crash), and
 * `crashes` counts such deaths per content, so that an input that takes the run down is
 * not taken again forever (crash-loop.ts). A run that exits in order with files in
 * flight (a second Ctrl-C) closes their notes (`stopped`): that is no crash. The
 * in-flight file is rewritten at each start and removed once no note is open.
 *
 * A file is known by its path, and also by its content: a file renamed or copied
 * within the watched folder whose sha256 equals a done entry's is not processed again
 * but recorded under its new path, with the original's outputs and `sameAs`.
 */
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { appendFile, mkdir, rm } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import type * as t from 'io-ts';
import { writeFileAtomic } from '../io/atomic.js';
import { openRegular, requireRegular } from '../io/input-kind.js';
import { acquireLock, type Lock } from '../io/lock.js';
import type { LedgerStore } from '../host/ledger-store.js';
import { FileLedgerStore } from '../host/node/ledger-store.js';
import { Isolation } from './isolation.js';
import { LedgerEntries, readLedger } from './ledger-entries.js';
import { ProgressCodec, readLines, type Progress } from './ledger-lines.js';
import { checkFile as checkWith, mendedText, sameContentEntry, type CheckResult, type FileLook, type Fingerprint, type LedgerEntry } from './ledger-rule.js';

export { mendedText, sameContentEntry, type CheckResult, type Fingerprint, type LedgerEntry };

export class Ledger {
  private constructor(
    readonly file: string,
    readonly root: string,
    private readonly entries: LedgerEntries,
    /** Files whose last note is `started` or `stopped` (no outcome since), by key, with the deaths counted. */
    private readonly unfinished: Map<string, Progress>,
    /** What opening the ledger found wrong and mended, one sentence each, for the run's log. */
    readonly recovered: readonly string[],
    private readonly store: LedgerStore,
  ) {}

  /** Files this process has noted `started` and not yet recorded, by key. */
  private readonly inFlight = new Map<string, Progress>();
  private readonly isolation = new Isolation();
  /** Ends the turn (isolation.ts) of each file in flight. */
  private readonly leave = new Map<string, () => void>();

  /** Reads the ledger (creating its folder), mending a torn last line, compacting it when superseded lines dominate. */
  static async open(file: string, root: string): Promise<Ledger> {
    await mkdir(dirname(file), { recursive: true });
    const store = new FileLedgerStore(file);
    const read = await readLedger(store, new FileLedgerStore(unreadableFile(file)));
    const { entries, recovered } = read;
    const notes = readLines(ProgressCodec, await new FileLedgerStore(inFlightFile(file)).read());
    const unfinished = new Map<string, Progress>();
    for (const p of notes.lines) {
      // A `started` note nobody closed: the run that wrote it died with the file in flight.
      if (p.status === 'started') unfinished.set(p.path, { ...p, status: 'stopped', crashes: p.crashes + 1 });
      else if (p.crashes > 0) unfinished.set(p.path, p);
      else unfinished.delete(p.path);
    }
    // An outcome recorded after the note (a power cut between the two writes) settles it.
    for (const [key, p] of unfinished) {
      const e = entries.get(key);
      if (e && e.hash === p.hash && e.time >= p.time) unfinished.delete(key);
    }
    const ledger = new Ledger(file, resolve(root), entries, unfinished, recovered, store);
    if (read.unreadable || read.lines > 2 * entries.size + 100) await ledger.compact();
    await ledger.rewriteNotes();
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
   * Whether `path` must be processed, and why (see CheckResult and checkFile). Throws
   * NotAnInputError for a path that is not a regular file (or a link to one).
   */
  check(path: string): Promise<CheckResult> {
    return checkFile(path, this.get(path), (hash, size) => this.entries.doneWithHash(hash, size));
  }

  /** Records a file found by `check` to have the content of a done one: done, with the original's outputs and `sameAs` naming it. */
  recordSameContent(path: string, fingerprint: Fingerprint, original: LedgerEntry): Promise<LedgerEntry> {
    return this.record(path, sameContentEntry(this.key(path), fingerprint, original));
  }

  /** How many runs died while processing this content of `path` (0 for a content no run died on). */
  crashes(path: string, fingerprint: Fingerprint): number {
    const u = this.unfinished.get(this.key(path));
    return u && u.size === fingerprint.size && u.hash === fingerprint.hash ? u.crashes : 0;
  }

  /**
   * Notes that work on `path` (with this content) begins, once it may: a file some run
   * died on waits until nothing else is in flight. Not flushed with fsync: a note lost
   * to a power cut only spares the file one count. Closed by `record` or `release`.
   */
  async start(path: string, fingerprint: Fingerprint): Promise<void> {
    const key = this.key(path);
    const crashes = this.crashes(path, fingerprint);
    // A file some run died on waits until it can run alone (isolation.ts).
    const leave = await this.isolation.enter(crashes > 0);
    const note: Progress = { path: key, status: 'started', size: fingerprint.size, mtimeMs: fingerprint.mtimeMs, ...(fingerprint.hash ? { hash: fingerprint.hash } : {}), crashes, time: new Date().toISOString() };
    if (this.inFlight.size === 0) process.on('exit', this.closeNotes);
    this.inFlight.set(key, note);
    this.leave.set(key, leave);
    return this.note(note);
  }

  /** Work on `path` ended without an outcome to record (it vanished, changed, or the run stops): closes its note. */
  release(path: string): Promise<void> {
    const key = this.key(path);
    const note = this.inFlight.get(key);
    if (!note) return Promise.resolve();
    this.forget(key);
    const stopped: Progress = { ...note, status: 'stopped', time: new Date().toISOString() };
    if (stopped.crashes > 0) this.unfinished.set(key, stopped);
    return this.note(stopped);
  }

  private forget(key: string): void {
    if (this.inFlight.delete(key) && this.inFlight.size === 0) process.off('exit', this.closeNotes);
    this.leave.get(key)?.();
    this.leave.delete(key);
  }

  /**
   * Appends a note to the in-flight file, one write at a time; removes the file once no
   * note is open. Never fails: a note that cannot be written (a full disk) only spares
   * its file one count, and must not fail the work it is about.
   */
  private note(line: Progress): Promise<void> {
    const idle = this.inFlight.size === 0 && this.unfinished.size === 0;
    const write = this.notes.then(() => (idle ? rm(inFlightFile(this.file), { force: true }) : appendFile(inFlightFile(this.file), JSON.stringify(line) + '\n')));
    this.notes = write.catch(() => undefined);
    return this.notes as Promise<void>;
  }

  private notes: Promise<unknown> = Promise.resolve();

  /** At an orderly exit (process.exit after a second signal), files in flight are closed: their run did not die on them. */
  private readonly closeNotes = () => {
    const time = new Date().toISOString();
    const text = [...this.inFlight.values()].map((n) => JSON.stringify({ ...n, status: 'stopped', time }) + '\n').join('');
    try {
      appendFileSync(inFlightFile(this.file), text);
    } catch {
      // Exiting: the notes stay open, and count as one death each at the next start.
    }
  };

  /** At start: the in-flight file with the open notes only (their deaths counted), or none. */
  private async rewriteNotes(): Promise<void> {
    const lines = [...this.unfinished.values()];
    if (lines.length === 0) await rm(inFlightFile(this.file), { force: true });
    else await writeFileAtomic(inFlightFile(this.file), lines.map((p) => JSON.stringify(p) + '\n').join(''));
  }

  /** Appends an entry and flushes it to disk before returning. */
  async record(path: string, entry: Omit<LedgerEntry, 'path' | 'time'>): Promise<LedgerEntry> {
    const full: LedgerEntry = { path: this.key(path), ...entry, time: new Date().toISOString() };
    this.entries.set(full);
    await this.store.append(JSON.stringify(full) + '\n');
    // Closed after the outcome is on disk: a death in between leaves the note open, one count too many at worst.
    const note = this.inFlight.get(full.path);
    const settled = this.unfinished.delete(full.path);
    this.forget(full.path);
    if (note || settled) await this.note({ ...(note ?? { path: full.path, size: full.size, mtimeMs: full.mtimeMs }), status: 'stopped', crashes: 0, time: full.time });
    return full;
  }

  private async compact(): Promise<void> {
    await this.store.replace(this.entries.text());
  }
}

/**
 * `check`'s rule (ledger-rule.ts) on files on disk, for this file's ledger and the
 * queue's in Redis: a path that is not a regular file (or a link to one) throws
 * NotAnInputError.
 */
export function checkFile(
  path: string,
  known: LedgerEntry | undefined,
  doneWithHash: (hash: string, size: number) => LedgerEntry | undefined | Promise<LedgerEntry | undefined>,
): Promise<CheckResult> {
  return checkWith(diskLook, path, known, doneWithHash);
}

// Its stats come with the look at what it is: one stat per file on the watch path, not two.
const diskLook: FileLook = { stat: requireRegular, hash: hashFile };

/** Where lines of a ledger that could not be read are kept. */
export function unreadableFile(ledger: string): string {
  return `${ledger}.unreadable`;
}

/** Where a ledger's in-flight notes are kept. */
export function inFlightFile(ledger: string): string {
  return `${ledger}.in-flight`;
}

/** sha256 of a regular file's content; throws NotAnInputError for anything else (never blocks on a FIFO, never reads a device). */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const { handle } = await openRegular(path);
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
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
