/**
 * A lock file that keeps two unetflow runs off one output folder or one ledger, and
 * that a crashed run cannot leave stuck.
 *
 * The file holds who took it: pid, host, when, and on Linux the process's start time
 * (field 22 of /proc/<pid>/stat), the boot id and the pid namespace. A heartbeat,
 * in a worker thread so that a long synchronous step cannot starve it, refreshes its
 * mtime. A lock is stale, and taken over, when
 * - on the same host (same name, boot and pid namespace), its process is gone, or
 *   its pid now belongs to a process started at another time (PIDs get reused), or
 *   the host has restarted since;
 * - or, on any host, its heartbeat is older than `staleMs`.
 * A PID alone is never trusted.
 */
import { readFileSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { link, mkdir, open, readlink, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';

/** @default 10 s */
export const HEARTBEAT_MS = 10_000;
/** @default 60 s: six missed heartbeats, and more than NFS's default attribute cache. */
export const STALE_MS = 60_000;

const UNREADABLE_MS = 5000;

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** When the lock was taken, ISO 8601. */
  readonly since: string;
  /** Linux: the process's start time in clock ticks after boot, as /proc/<pid>/stat gives it. */
  readonly processStart?: string;
  readonly bootId?: string;
  readonly pidNamespace?: string;
}

export interface LockOptions {
  /** What the lock protects, for messages: `the output folder /srv/out`. */
  readonly guards: string;
  /** Why two runs must not share it, for the refusal: `they would overwrite each other's outputs`. */
  readonly because: string;
  /** What the user can do besides stopping the other run: `give this run another save.dir`. */
  readonly otherwise: string;
  /** @default HEARTBEAT_MS */
  readonly heartbeatMs?: number;
  /** @default STALE_MS */
  readonly staleMs?: number;
  /** Another process took the lock over (this one was suspended too long) or it cannot be kept. */
  readonly onLost?: (message: string) => void;
}

export interface Lock {
  readonly file: string;
  readonly owner: LockOwner;
  /** The stale lock this one replaced, why it was judged stale, and a sentence saying so. */
  readonly recovered?: { readonly owner?: LockOwner; readonly reason: string; readonly message: string };
  /** Stops the heartbeat and removes the file (if it is still ours). Synchronous, so that it can run in a teardown. */
  release(): void;
}

/** Refusal to start because a live process holds the lock: the CLI's exit code 3. */
export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';
  readonly exitCode = 3;
  constructor(
    readonly file: string,
    readonly owner: LockOwner | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Takes the lock at `file` (creating its folder), recovering a stale one; throws LockHeldError if a live run holds it. */
export async function acquireLock(file: string, options: LockOptions): Promise<Lock> {
  const staleMs = options.staleMs ?? STALE_MS;
  const owner = await currentOwner();
  const content = JSON.stringify(owner) + '\n';
  try {
    await mkdir(dirname(file), { recursive: true });
  } catch (error) {
    throw new Error(`cannot create the lock ${file} for ${options.guards}: ${(error as Error).message}`, { cause: error });
  }
  let recovered: Lock['recovered'];
  // A few rounds: another process may take or release the lock between our steps.
  for (let round = 0; round < 5; round++) {
    if (await createExclusive(file, content, options)) {
      return startHolding(file, owner, content, options, recovered);
    }
    const found = await readLock(file);
    if (!found) continue; // released meanwhile
    const verdict = await judge(found, staleMs);
    if (!verdict.stale) throw new LockHeldError(file, found.owner, refusal(file, found, verdict.sameHost, staleMs, options));
    if (await removeIfUnchanged(file, found.text)) {
      const left = found.owner ? `left by pid ${found.owner.pid} on host ${found.owner.host} since ${found.owner.since}` : 'left unreadable';
      recovered = { ...(found.owner ? { owner: found.owner } : {}), reason: verdict.reason, message: `took over the stale lock ${file}, ${left}: ${verdict.reason}` };
    }
  }
  throw new Error(`cannot take the lock ${file} for ${options.guards}: other processes keep taking and releasing it`);
}

let asides = 0;

/** Creates the lock with its whole content at once: written aside, then linked into place (fails if it exists). */
async function createExclusive(file: string, content: string, options: LockOptions): Promise<boolean> {
  const aside = `${file}.${process.pid}.${++asides}.new`;
  try {
    await writeFile(aside, content);
    await link(aside, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`cannot create the lock ${file} for ${options.guards}: ${(error as Error).message}`, { cause: error });
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

interface Found {
  readonly text: string;
  readonly owner?: LockOwner;
  readonly mtimeMs: number;
}

/** Opened, not just stat-ed: on NFS, opening refreshes the cached attributes (close-to-open consistency). */
async function readLock(file: string): Promise<Found | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const [{ mtimeMs }, text] = [await handle.stat(), await handle.readFile('utf8')];
    return { text, mtimeMs, owner: parseOwner(text) };
  } finally {
    await handle.close();
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as LockOwner;
    return Number.isInteger(o.pid) && typeof o.host === 'string' && typeof o.since === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

type Verdict = { stale: true; reason: string } | { stale: false; sameHost: boolean };

async function judge(found: Found, staleMs: number): Promise<Verdict> {
  const age = Date.now() - found.mtimeMs;
  const { owner } = found;
  if (!owner) {
    // Our locks are written whole, or (put back by the heartbeat) within milliseconds: an unreadable one that has aged is debris.
    return age > UNREADABLE_MS ? { stale: true, reason: 'the lock file is unreadable' } : { stale: false, sameHost: false };
  }
  const me = await currentOwner();
  if (owner.host === me.host && owner.bootId && me.bootId && owner.bootId !== me.bootId) {
    return { stale: true, reason: 'this machine has restarted since' };
  }
  const sameHost = owner.host === me.host && owner.pidNamespace === me.pidNamespace;
  if (sameHost) {
    const alive = processState(owner.pid);
    if (alive === 'gone') return { stale: true, reason: `process ${owner.pid} is gone` };
    if (alive !== 'unknown' && owner.processStart && alive !== owner.processStart) {
      return { stale: true, reason: `pid ${owner.pid} now belongs to another process (started at another time)` };
    }
  }
  if (age > staleMs) return { stale: true, reason: `no heartbeat for ${Math.round(age / 1000)} s` };
  return { stale: false, sameHost };
}

/** 'gone', the start time of a live process (Linux), or 'unknown' where /proc cannot say (alive). */
function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return 'gone'; // a zombie has exited
    return fields[19];
  } catch {
    // No /proc (macOS) or no such process.
  }
  try {
    process.kill(pid, 0);
    return 'unknown';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'unknown' : 'gone';
  }
}

/** Moves the judged lock aside and deletes it, unless another process replaced it meanwhile (then it is put back). */
async function removeIfUnchanged(file: string, judged: string): Promise<boolean> {
  const aside = `${file}.${process.pid}.${++asides}.stale`;
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = readFileSync(aside, 'utf8');
  if (moved !== judged) await link(aside, file).catch(() => undefined);
  await unlink(aside);
  return moved === judged;
}

let me: Promise<LockOwner> | undefined;

async function currentOwner(): Promise<LockOwner> {
  me ??= (async () => {
    const start = processState(process.pid);
    const bootId = (() => {
      try {
        return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      } catch {
        return undefined;
      }
    })();
    const pidNamespace = await readlink('/proc/self/ns/pid').catch(() => undefined);
    return {
      pid: process.pid,
      host: hostname(),
      since: '',
      ...(start !== 'unknown' && start !== 'gone' ? { processStart: start } : {}),
      ...(bootId ? { bootId } : {}),
      ...(pidNamespace ? { pidNamespace } : {}),
    };
  })();
  return { ...(await me), since: new Date().toISOString() };
}

function refusal(file: string, found: Found, sameHost: boolean, staleMs: number, options: LockOptions): string {
  const o = found.owner;
  const beat = `last heartbeat ${Math.max(0, Math.round((Date.now() - found.mtimeMs) / 1000))} s ago`;
  const elsewhere = sameHost ? '' : o?.host === hostname() ? ' (another container)' : ' (another machine)';
  const who = o ? `pid ${o.pid} on host ${o.host}${elsewhere}, since ${o.since}, ${beat}` : `an unreadable lock, ${beat}`;
  const stop = o && sameHost ? `Stop that run first (kill ${o.pid} asks it to finish its files and exit)` : 'Stop that run first';
  const wait = sameHost ? '' : ` If it has died, the lock is taken over ${Math.round((o ? staleMs : UNREADABLE_MS) / 1000)} s after its last heartbeat.`;
  return `${options.guards} is in use by another unetflow run (${who}; lock file ${file}): ${options.because}. ${stop}, or ${options.otherwise}.${wait}`;
}

// The heartbeat: one worker thread for all of this process's locks, which touches each lock
// file every heartbeatMs and reports a file that is missing or no longer ours.
const HEARTBEAT_WORKER = `
const { parentPort } = require('node:worker_threads');
const { readFileSync, utimesSync } = require('node:fs');
const timers = new Map();
parentPort.on('message', ({ type, file, content, everyMs }) => {
  if (type === 'add') timers.set(file, setInterval(() => beat(file, content), everyMs));
  else { clearInterval(timers.get(file)); timers.delete(file); }
});
function beat(file, content) {
  let text;
  try { text = readFileSync(file, 'utf8'); }
  catch (error) { if (error.code === 'ENOENT') parentPort.postMessage({ file, missing: true }); return; }
  if (text !== content) { clearInterval(timers.get(file)); timers.delete(file); return parentPort.postMessage({ file, replaced: text }); }
  const now = new Date();
  try { utimesSync(file, now, now); } catch {}
}
`;

interface Held {
  readonly content: string;
  readonly options: LockOptions;
  readonly everyMs: number;
  released: boolean;
}

const held = new Map<string, Held>();
let worker: Worker | undefined;

function startHolding(file: string, owner: LockOwner, content: string, options: LockOptions, recovered: Lock['recovered']): Lock {
  const state: Held = { content, options, everyMs: options.heartbeatMs ?? HEARTBEAT_MS, released: false };
  held.set(file, state);
  heartbeat().postMessage({ type: 'add', file, content, everyMs: state.everyMs });
  return {
    file,
    owner,
    ...(recovered ? { recovered } : {}),
    release() {
      if (state.released) return;
      stopBeating(file, state);
      try {
        if (readFileSync(file, 'utf8') === content) unlinkSync(file);
      } catch {
        // Already gone.
      }
    },
  };
}

function heartbeat(): Worker {
  if (worker) return worker;
  worker = new Worker(HEARTBEAT_WORKER, { eval: true });
  worker.unref(); // never keeps the process alive
  worker.on('error', () => {
    // The heartbeat must not stop silently: start a new worker for the locks still held.
    worker = undefined;
    for (const [file, state] of held) heartbeat().postMessage({ type: 'add', file, content: state.content, everyMs: state.everyMs });
  });
  worker.on('message', (m: { file: string; missing?: boolean; replaced?: string }) => {
    const state = held.get(m.file);
    if (!state || state.released) return;
    if (m.missing) {
      // Deleted by hand while we run: put it back, unless another run has taken it meanwhile.
      try {
        mkdirSync(dirname(m.file), { recursive: true });
        writeFileSync(m.file, state.content, { flag: 'wx' });
        return;
      } catch (error) {
        // Gone with its folder (an unmounted share, a read-only remount): no other run writes
        // there either; the next beat puts it back once the folder can be written again.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return;
        return lost(m.file, state, readFileSafe(m.file));
      }
    }
    lost(m.file, state, m.replaced);
  });
  return worker;
}

function readFileSafe(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function stopBeating(file: string, state: Held): void {
  state.released = true;
  held.delete(file);
  if (held.size > 0) return void worker?.postMessage({ type: 'remove', file });
  void worker?.terminate();
  worker = undefined;
}

function lost(file: string, state: Held, text: string | undefined): void {
  stopBeating(file, state);
  const other = text ? parseOwner(text) : undefined;
  const why = other
    ? `pid ${other.pid} on host ${other.host} took it over at ${other.since} (was this process suspended for longer than the heartbeat allows?)`
    : 'it was removed and could not be put back';
  state.options.onLost?.(`lost the lock ${file} on ${state.options.guards}: ${why}; stopping: no new files are taken`);
}
