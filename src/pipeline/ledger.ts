/**
 * The watch-mode ledger: one JSON line per processed input (path, size, mtime,
 * content hash, outputs, status), appended and flushed as each file finishes, so
 * that after a restart nothing done is done again and nothing changed is skipped.
 *
 * Append-only JSONL survives a crash mid-write: a torn last line is ignored on
 * reading, and the file it described is simply processed again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';

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
  readonly time: string;
}

export class Ledger {
  private constructor(
    readonly file: string,
    readonly root: string,
    private readonly entries: Map<string, LedgerEntry>,
  ) {}

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

  /**
   * Whether `path` must be processed: unknown, or changed since it was recorded.
   * Size and mtime unchanged means unchanged; otherwise the content hash decides
   * (a file copied again with the same bytes is not redone).
   */
  async check(path: string): Promise<{ process: boolean; fingerprint: Fingerprint }> {
    const s = await stat(path);
    const known = this.get(path);
    const quick = { size: s.size, mtimeMs: s.mtimeMs };
    if (known && known.size === s.size && known.mtimeMs === s.mtimeMs) return { process: false, fingerprint: { ...quick, hash: known.hash } };
    const fingerprint = { ...quick, hash: await hashFile(path) };
    return { process: !known || known.hash !== fingerprint.hash, fingerprint };
  }

  /** Appends an entry and flushes it to disk before returning. */
  async record(path: string, entry: Omit<LedgerEntry, 'path' | 'time'>): Promise<LedgerEntry> {
    const full: LedgerEntry = { path: this.key(path), ...entry, time: new Date().toISOString() };
    this.entries.set(full.path, full);
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

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
