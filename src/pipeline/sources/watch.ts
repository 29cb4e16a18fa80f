/**
 * The `watch` source: files already in the folder, then each new or changed one,
 * emitted only once completely written. chokidar's awaitWriteFinish waits until the
 * size has been stable for `stableMs`; temporary names (*.tmp, *.part, ~*, dot-files)
 * are ignored, since copy tools rename them into place when done.
 *
 * The folder itself may come and go: one missing at start is waited for, and one
 * removed (or removed and created again) while watched is picked up anew when it is
 * back. chokidar cannot do that alone: it keeps watching the removed folder's inode.
 *
 * Only regular files (and links to them) are emitted: a FIFO, socket, device or folder
 * named like an image is reported once and never handed on (see non-inputs.ts).
 *
 * Files the watcher misses are found by a rescan of the folder every few seconds
 * (rescan.ts), so that none waits for a restart.
 */
import { watch, type FSWatcher } from 'chokidar';
import { stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { Observable } from 'rxjs';
import type { SourceRef } from '../../sample.js';
import { globToRegExp, IMAGE_PATTERN, isTemporaryName } from '../../io/glob.js';
import { NonInputs } from './non-inputs.js';
import { RESCAN_MS, Rescan } from './rescan.js';

export interface WatchQuery {
  readonly dir: string;
  readonly pattern?: string;
  readonly recursive?: boolean;
  /** @default 1000 */
  readonly stableMs?: number;
  readonly poll?: boolean;
}

export interface WatchHooks {
  /** Called each time the folder is being watched and the files already in it have all been emitted. */
  onReady?(): void;
  onWarning?(message: string): void;
}

/** How often the folder is looked for while missing, and checked to be still the same while watched. */
const RECHECK_MS = 500;

/** Completes when `signal` aborts (the watcher is closed first), also while waiting for the folder. */
export function watchFolder(query: WatchQuery, signal: AbortSignal, hooks: WatchHooks = {}): Observable<SourceRef> {
  const root = resolve(query.dir);
  const pattern = globToRegExp(query.pattern ?? (query.recursive ? `**/${IMAGE_PATTERN}` : IMAGE_PATTERN));
  const stableMs = query.stableMs ?? 1000;
  return new Observable<SourceRef>((subscriber) => {
    const closed = new AbortController();
    const close = () => closed.abort();
    if (signal.aborted) close();
    else signal.addEventListener('abort', close, { once: true });
    let watcher: FSWatcher | undefined;
    const nonInputs = new NonInputs((message) => hooks.onWarning?.(message));
    let checked = Promise.resolve();
    let rescan: Rescan | undefined;
    let toldMissed = false;

    const handOn = (path: string, check: () => Promise<boolean> = async () => true) => {
      const rel = relative(root, path).split(sep).join('/');
      if (!pattern.test(rel)) return;
      // One look at a time, so that files are handed on in the order the watcher saw them.
      checked = checked
        .then(async () => (await check()) && nonInputs.check(path))
        .then((ok) => {
          if (ok && !closed.signal.aborted) subscriber.next({ path, root });
        });
    };

    const startWatcher = () => {
      const thisRescan = new Rescan(root, pattern, query.recursive ?? false, stableMs);
      rescan = undefined;
      const w = watch(root, {
        ignoreInitial: false,
        persistent: true,
        depth: query.recursive ? undefined : 0,
        usePolling: query.poll ?? false,
        awaitWriteFinish: { stabilityThreshold: stableMs, pollInterval: Math.min(100, stableMs) },
        ignored: (path: string) => path !== root && isTemporaryName(path.split(sep).pop() ?? ''),
      });
      const emit = (path: string) => handOn(path, () => thisRescan.watcherReports(path));
      w.on('add', emit);
      w.on('change', emit);
      w.on('unlink', (path: string) => {
        nonInputs.forget(path);
        thisRescan.forget(path);
      });
      // A folder named like an image (where subfolders are not watched) and a link loop are no inputs either: said once.
      if (!query.recursive) w.on('addDir', (path: string) => path !== root && emit(path));
      // After the looks at the files found so far: they are all handed on when `onReady` is called.
      // Rescans start once the watcher has reported what the folder held.
      w.on('ready', () => (checked = checked.then(() => ((rescan = thisRescan), hooks.onReady?.()))));
      w.on('error', (error) => {
        const { code, path } = error as NodeJS.ErrnoException;
        if (code === 'ELOOP' && path && path.startsWith(root + sep)) emit(path);
        else hooks.onWarning?.(`watch ${root}: ${String(error)}`);
      });
      return w;
    };

    (async () => {
      let seenBefore = false;
      while (!closed.signal.aborted) {
        const found = await folderIdentity(root);
        if ('missing' in found) {
          const removed = seenBefore && found.missing === 'does not exist';
          const waitFor = found.missing === 'is not a folder' ? 'a folder there' : removed ? 'it to appear again' : 'it to appear';
          hooks.onWarning?.(`watch folder ${root} ${removed ? 'was removed' : found.missing}: waiting for ${waitFor}`);
          while (!closed.signal.aborted && 'missing' in (await folderIdentity(root))) await pause(RECHECK_MS, closed.signal);
          continue;
        }
        seenBefore = true;
        watcher = startWatcher();
        // chokidar reports the folder's removal at once; the identity check also catches a
        // quick remove-and-create, whose new folder may even reuse the inode number.
        let removed = false;
        let wake: () => void = () => {};
        watcher.on('unlinkDir', (path: string) => {
          if (path === root) (removed = true), wake();
        });
        let now: Identity = found;
        while (!closed.signal.aborted && !removed && 'id' in now && now.id === found.id) {
          await pause(RECHECK_MS, closed.signal, (w) => (wake = w));
          now = await folderIdentity(root);
          if (rescan?.due() && !closed.signal.aborted) {
            for (const path of await rescan.missed()) {
              if (!toldMissed) {
                toldMissed = true;
                hooks.onWarning?.(
                  `watch ${root}: the file watcher did not report ${path}; a rescan of the folder every ${RESCAN_MS / 1000} s or more ` +
                    'finds such files (on a network share, `poll: true` sees them sooner)',
                );
              }
              handOn(path);
            }
          }
        }
        const w = watcher;
        watcher = undefined;
        await w.close();
        if (!closed.signal.aborted && 'id' in (await folderIdentity(root))) {
          hooks.onWarning?.(`watch folder ${root} was removed and created again: watching the new one`);
        }
      }
      subscriber.complete();
    })().catch((error) => subscriber.error(error));

    return () => {
      signal.removeEventListener('abort', close);
      close();
      void watcher?.close();
    };
  });
}

type Identity = { readonly id: string } | { readonly missing: string };

/** A folder's identity: device, inode and birth time (an inode number alone is reused at once by ext4). */
async function folderIdentity(path: string): Promise<Identity> {
  try {
    const s = await stat(path);
    if (!s.isDirectory()) return { missing: 'is not a folder' };
    return { id: `${s.dev}:${s.ino}:${s.birthtimeMs}` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { missing: code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})` };
  }
}

/** Resolves after `ms`, or at once when `signal` aborts or the function handed to `onWake` is called. */
function pause(ms: number, signal: AbortSignal, onWake?: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    onWake?.(done);
  });
}
