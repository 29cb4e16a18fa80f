/**
 * The `watch` source in a page: the files already in a folder handle, then each new or
 * changed one, once it is completely written: its size and modification time unchanged
 * for `stableMs`, as the CLI's watch (chokidar's awaitWriteFinish) waits. Temporary names
 * (*.tmp, *.part, *.crswap, ~*, dot-files) are ignored, as the CLI ignores them. The
 * folder is looked at every `intervalMs`, and at once when a FileSystemObserver (where
 * the browser has one) says something in it changed. A file is emitted again only once
 * it has changed and settled again: whether it needs doing is the ledger's word.
 */
import { Observable } from 'rxjs';
import type { Folder } from '../../host/folder.js';
import { globToRegExp, IMAGE_PATTERN, isTemporaryName } from '../../io/glob.js';

export interface PageWatchQuery {
  readonly pattern?: string;
  readonly recursive?: boolean;
  /** @default 1000 */
  readonly stableMs?: number;
  /** How often the folder is listed. @default a quarter of stableMs, at least 50 ms */
  readonly intervalMs?: number;
}

export interface WatchedFile {
  /** Relative to the folder, '/'-separated. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

interface Observer {
  observe(handle: unknown, options?: { recursive?: boolean }): Promise<void>;
  disconnect(): void;
}
type ObserverClass = new (callback: () => void) => Observer;

/** Completes when `signal` aborts. `onReady` is called once the files there at the start have all been emitted. */
export function watchHandleFolder(folder: Folder & { readonly handle?: unknown }, query: PageWatchQuery, signal: AbortSignal, hooks: { onReady?(): void } = {}): Observable<WatchedFile> {
  const pattern = globToRegExp(query.pattern ?? (query.recursive ? `**/${IMAGE_PATTERN}` : IMAGE_PATTERN));
  const stableMs = query.stableMs ?? 1000;
  const intervalMs = query.intervalMs ?? Math.max(50, Math.floor(stableMs / 4));
  return new Observable<WatchedFile>((subscriber) => {
    /** Each file's last look: its size and mtime, since when they held, and whether that version was emitted. */
    const seen = new Map<string, { size: number; mtimeMs: number; since: number; emitted: boolean }>();
    let initial: Set<string> | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let scanning = false;
    let again = false;
    let observer: Observer | undefined;

    const scan = async () => {
      if (scanning) return void (again = true);
      scanning = true;
      if (timer) clearTimeout(timer); // an observer's call comes between two looks

      try {
        do {
          again = false;
          const now = Date.now();
          const listed = await folder.list({ recursive: query.recursive ?? false });
          const present = new Set<string>();
          for (const f of listed) {
            const name = f.path.slice(f.path.lastIndexOf('/') + 1);
            if (isTemporaryName(name) || name.endsWith('.crswap') || !pattern.test(f.path)) continue;
            present.add(f.path);
            const last = seen.get(f.path);
            if (!last || last.size !== f.size || last.mtimeMs !== f.mtimeMs) seen.set(f.path, { size: f.size, mtimeMs: f.mtimeMs, since: now, emitted: false });
          }
          for (const path of seen.keys()) if (!present.has(path)) seen.delete(path);
          initial ??= new Set(present);
          for (const [path, s] of [...seen].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
            if (s.emitted || now - s.since < stableMs) continue;
            s.emitted = true;
            subscriber.next({ path, size: s.size, mtimeMs: s.mtimeMs });
          }
          if (initial && [...initial].every((p) => !seen.has(p) || seen.get(p)!.emitted)) {
            initial = new Set();
            const ready = hooks.onReady;
            hooks = {};
            ready?.();
          }
        } while (again && !signal.aborted);
      } catch (error) {
        subscriber.error(error);
        return;
      } finally {
        scanning = false;
      }
      if (!signal.aborted) timer = setTimeout(() => void scan(), intervalMs);
    };

    const stop = () => {
      if (timer) clearTimeout(timer);
      observer?.disconnect();
      subscriber.complete();
    };
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    const Observer = (globalThis as { FileSystemObserver?: ObserverClass }).FileSystemObserver;
    if (Observer && folder.handle) {
      observer = new Observer(() => void scan());
      observer.observe(folder.handle, { recursive: query.recursive ?? false }).catch(() => {
        observer = undefined; // the interval's looks are enough
      });
    }
    void scan();
    return () => {
      signal.removeEventListener('abort', stop);
      if (timer) clearTimeout(timer);
      observer?.disconnect();
    };
  });
}
