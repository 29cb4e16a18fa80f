/**
 * The safety net under the watch source's watcher. chokidar (inotify) can miss files:
 * under load the last ones of a burst, and always those that another machine writes
 * into a network share or that are written beneath an overlay mount, where no event
 * reaches this machine. So the folder is listed again every few seconds, and a file the
 * watcher never reported is handed on once its size and modification time have held
 * for `stableMs` (awaitWriteFinish's rule) plus a grace that leaves the watcher time to
 * report it first. Only unreported names are looked at, so a large folder costs one
 * listing per rescan; rescans are spaced further apart when listing takes long.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { isTemporaryName } from '../../io/glob.js';

/** The shortest time between two listings of the folder. */
export const RESCAN_MS = 2000;
/** How much longer than `stableMs` a file is left to the watcher before the rescan takes it. */
const GRACE_MS = 2000;
/** A listing may take at most this share of the time between rescans. */
const LISTING_SHARE = 20;

interface Seen {
  readonly signature: string;
  readonly since: number;
}

export class Rescan {
  /** Files handed on, by the watcher or by a rescan, with the signature a rescan found them with. */
  private readonly reported = new Map<string, string | undefined>();
  /** Unreported files, since when they have had their signature. */
  private readonly waiting = new Map<string, Seen>();
  private next = 0;

  constructor(
    private readonly root: string,
    private readonly pattern: RegExp,
    private readonly recursive: boolean,
    private readonly stableMs: number,
  ) {}

  /**
   * The watcher reports `path`: false where a rescan already handed it on unchanged (its
   * size and mtime as the rescan found them), so that it is not handed on twice.
   */
  async watcherReports(path: string): Promise<boolean> {
    const rescued = this.reported.get(path);
    this.reported.set(path, undefined);
    this.waiting.delete(path);
    if (rescued === undefined) return true;
    return (await signature(path)) !== rescued;
  }

  forget(path: string): void {
    this.reported.delete(path);
    this.waiting.delete(path);
  }

  /** Whether the next rescan is due. */
  due(): boolean {
    return Date.now() >= this.next;
  }

  /** Lists the folder; returns the files the watcher has not reported and that have held still long enough, as reported from now on. */
  async missed(): Promise<string[]> {
    const started = Date.now();
    let names: string[];
    try {
      names = await readdir(this.root, { recursive: this.recursive });
    } catch {
      names = []; // the folder went: the watch source's own checks say so
    }
    const listed = new Set<string>();
    const found: string[] = [];
    for (const name of names) {
      const rel = name.split(sep).join('/');
      if (!this.pattern.test(rel) || rel.split('/').some(isTemporaryName)) continue;
      const path = join(this.root, name);
      listed.add(path);
      if (this.reported.has(path)) continue;
      const current = await signature(path);
      if (current === undefined) continue;
      const seen = this.waiting.get(path);
      if (seen?.signature !== current) this.waiting.set(path, { signature: current, since: Date.now() });
      else if (Date.now() - seen.since >= this.stableMs + GRACE_MS) {
        this.waiting.delete(path);
        this.reported.set(path, current);
        found.push(path);
      }
    }
    for (const path of this.waiting.keys()) if (!listed.has(path)) this.waiting.delete(path);
    this.next = Date.now() + Math.max(RESCAN_MS, LISTING_SHARE * (Date.now() - started));
    return found;
  }
}

/** A regular file's size and modification time (through links), or undefined for anything else. */
async function signature(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? `${s.size}:${s.mtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}
