/**
 * The `watch` source: files already in the folder, then each new or changed one,
 * emitted only once completely written. chokidar's awaitWriteFinish waits until the
 * size has been stable for `stableMs`; temporary names (*.tmp, *.part, ~*, dot-files)
 * are ignored, since copy tools rename them into place when done.
 */
import { watch } from 'chokidar';
import { relative, resolve, sep } from 'node:path';
import { Observable } from 'rxjs';
import type { SourceRef } from '../../sample.js';
import { globToRegExp, IMAGE_PATTERN, isTemporaryName } from '../../io/glob.js';

export interface WatchQuery {
  readonly dir: string;
  readonly pattern?: string;
  readonly recursive?: boolean;
  /** @default 1000 */
  readonly stableMs?: number;
  readonly poll?: boolean;
}

export interface WatchHooks {
  /** Called once the files already present have all been emitted. */
  onReady?(): void;
  onWarning?(message: string): void;
}

/** Completes when `signal` aborts (the watcher is closed first). */
export function watchFolder(query: WatchQuery, signal: AbortSignal, hooks: WatchHooks = {}): Observable<SourceRef> {
  const root = resolve(query.dir);
  const pattern = globToRegExp(query.pattern ?? (query.recursive ? `**/${IMAGE_PATTERN}` : IMAGE_PATTERN));
  const stableMs = query.stableMs ?? 1000;
  return new Observable<SourceRef>((subscriber) => {
    const watcher = watch(root, {
      ignoreInitial: false,
      persistent: true,
      depth: query.recursive ? undefined : 0,
      usePolling: query.poll ?? false,
      awaitWriteFinish: { stabilityThreshold: stableMs, pollInterval: Math.min(100, stableMs) },
      ignored: (path: string) => path !== root && isTemporaryName(path.split(sep).pop() ?? ''),
    });
    const emit = (path: string) => {
      const rel = relative(root, path).split(sep).join('/');
      if (pattern.test(rel)) subscriber.next({ path, root });
    };
    watcher.on('add', emit);
    watcher.on('change', emit);
    watcher.on('ready', () => hooks.onReady?.());
    watcher.on('error', (error) => hooks.onWarning?.(`watch ${root}: ${String(error)}`));
    const stop = () => {
      void watcher.close().then(() => subscriber.complete());
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    return () => {
      signal.removeEventListener('abort', stop);
      void watcher.close();
    };
  });
}
