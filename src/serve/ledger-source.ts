/**
 * `unetflow serve --ledger DIR`: the live page for an output folder, from what the watch
 * run recorded there. The ledger is read from the start, then followed: lines appended
 * by a run that is still going become rows as they land. A ledger rewritten in place
 * (compacted when a run starts) is read again from the start; rows for a path replace
 * that path's earlier row. Whether a run is going is read from the ledger's lock file
 * and its heartbeat.
 */
import { open, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Observable } from 'rxjs';
import { decodeStored } from '../codec/stored.js';
import { STALE_MS } from '../io/lock.js';
import { outputPath } from '../io/output-path.js';
import { LedgerEntryCodec } from '../pipeline/ledger-lines.js';
import type { LedgerRecord, RunStatus, ServeEvent } from './state.js';

export const LEDGER_NAME = '.unetflow-ledger.jsonl';

/** The ledger file and the output folder for `--ledger PATH` (a folder holding the ledger, or the ledger itself). */
export async function locateLedger(path: string): Promise<{ ledger: string; folder: string }> {
  const full = resolve(path);
  const s = await stat(full).catch((error: unknown) => {
    throw new Error(`--ledger ${path}: not found (expected an output folder of a watch run, holding ${LEDGER_NAME})`, { cause: error });
  });
  const ledger = s.isDirectory() ? join(full, LEDGER_NAME) : full;
  await stat(ledger).catch((error: unknown) => {
    throw new Error(`--ledger ${path}: no ${LEDGER_NAME} in this folder (only watch runs keep a ledger; it is in their first save folder, or where their source's ledger: says)`, {
      cause: error,
    });
  });
  return { ledger, folder: dirname(ledger) };
}

/**
 * A ledger line as the page shows it; undefined for a line that is not JSON (torn by a
 * crash, its file done again by the next run). JSON that is not an entry fails, naming
 * `where` (the ledger's file and line) and what was expected.
 */
export function ledgerRecord(line: string, folder: string, where: string): LedgerRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const e = decodeStored(LedgerEntryCodec, value, where, 'a ledger entry');
  // Failed files have their report beside the outputs, named by the stem the run gave them.
  const stem = e.stem ?? e.path.slice(0, e.path.length - extname(e.path).length);
  const report = e.status === 'failed' ? outputPath(folder, { path: e.path, outputStem: stem }, 'error', 'json') : undefined;
  return {
    type: 'ledger-entry',
    file: e.path,
    status: e.status,
    outputs: e.outputs,
    time: e.time,
    ...(typeof e.seconds === 'number' ? { seconds: e.seconds } : {}),
    ...(typeof e.objects === 'number' ? { objects: e.objects } : {}),
    ...(e.error ? { error: e.error } : {}),
    ...(report ? { report } : {}),
    ...(e.sameAs ? { sameAs: e.sameAs } : {}),
  };
}

export interface FollowOptions {
  /** How often the ledger and its lock are looked at. @default 500 ms */
  readonly pollMs?: number;
}

/** The ledger's entries, then those appended, with `source` events saying whether a run holds the ledger. */
export function ledgerEvents(ledger: string, options: FollowOptions = {}): Observable<ServeEvent> {
  const folder = dirname(ledger);
  return new Observable<ServeEvent>((subscriber) => {
    let offset = 0;
    let inode: number | undefined;
    let partial = '';
    /** Complete lines read so far, for messages that point at one. */
    let lines = 0;
    let status: RunStatus | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;

    const readNew = async () => {
      const s = await stat(ledger).catch(() => undefined);
      if (!s) return;
      if (s.ino !== inode || s.size < offset) {
        // Replaced (compacted) or truncated: read it whole again.
        inode = s.ino;
        offset = 0;
        partial = '';
        lines = 0;
      }
      if (s.size === offset) return;
      const handle = await open(ledger, 'r');
      try {
        const length = s.size - offset;
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        offset += bytesRead;
        const complete = (partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
        partial = complete.pop() ?? '';
        for (const line of complete) {
          lines++;
          if (!line.trim()) continue;
          try {
            const record = ledgerRecord(line, folder, `${ledger}:${lines}`);
            if (record) subscriber.next(record);
          } catch (error) {
            subscriber.next({ type: 'log', level: 'warn', message: `${(error as Error).message}; the page leaves it out` });
          }
        }
      } finally {
        await handle.close();
      }
    };

    const readStatus = async () => {
      const lock = await stat(`${ledger}.lock`).catch(() => undefined);
      const now: RunStatus = lock && Date.now() - lock.mtimeMs < STALE_MS ? 'running' : 'finished';
      if (now !== status) {
        status = now;
        subscriber.next({ type: 'source', state: now, message: now === 'running' ? `a run holds ${basename(ledger)}: following it` : `no run holds ${basename(ledger)}: the ledger as last written` });
      }
    };

    const tick = async () => {
      try {
        await readNew();
        await readStatus();
      } catch (error) {
        subscriber.error(new Error(`reading the ledger ${ledger}: ${(error as Error).message}`, { cause: error }));
        return;
      }
      if (!stopped) timer = setTimeout(tick, options.pollMs ?? 500);
    };
    subscriber.next({ type: 'started', pipeline: `ledger of ${basename(folder)}`, file: ledger, time: new Date().toISOString(), watch: true });
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  });
}
