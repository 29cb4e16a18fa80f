/**
 * What every run is wrapped in, in-process or producing into a queue: an Observable of
 * RunEvents with `started` first (what is said while starting waits for it), `stats`
 * when it completes, or `stats` and `run-failed` when it ends on an error; one signal
 * that stops it (the caller's, an error, the subscriber leaving); and what it holds
 * (locks, connections) let go when it ends in any way.
 */
import { Observable } from 'rxjs';
import { exitCodeOf, messageOf } from '../errors.js';
import type { RunEvent } from '../events.js';

export interface Session {
  /** Aborted by the caller's signal, at an error and once the run ends. */
  readonly signal: AbortSignal;
  /** Aborts `signal`: no new files are taken; those in flight finish. */
  stop(): void;
  emit(event: RunEvent): void;
  /** Called when the run ends in any way, synchronously (a lock's release must not wait), last first. */
  onEnd(close: () => unknown): void;
  /** The closing `stats` event, once the run has what to count. */
  stats?: () => RunEvent;
}

/** Runs `body` (which resolves when the run is over) as an Observable of its events. */
export function runSession(outer: AbortSignal | undefined, body: (session: Session) => Promise<void>): Observable<RunEvent> {
  return new Observable<RunEvent>((subscriber) => {
    const stop = new AbortController();
    const onOuterAbort = () => stop.abort();
    // A signal that came while the caller was still starting (reading the file) counts too.
    if (outer?.aborted) stop.abort();
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
    const early: RunEvent[] = [];
    let started = false;
    let ended = false;
    const closers: (() => unknown)[] = [];
    const session: Session = {
      signal: stop.signal,
      stop: () => stop.abort(),
      emit: (event) => {
        if (ended) return;
        if (!started && event.type !== 'started') return void early.push(event);
        subscriber.next(event);
        if (event.type === 'started') {
          started = true;
          for (const e of early.splice(0)) subscriber.next(e);
        }
      },
      onEnd: (close) => {
        if (ended) return void close();
        closers.push(close);
      },
    };
    const end = () => {
      ended = true;
      stop.abort();
    };
    body(session).then(
      () => {
        if (ended) return;
        end();
        if (session.stats) subscriber.next(session.stats());
        subscriber.complete();
      },
      (error: unknown) => {
        if (ended) return;
        end();
        if (started && session.stats) subscriber.next(session.stats());
        else for (const e of early.splice(0)) subscriber.next(e);
        subscriber.next({ type: 'run-failed', message: messageOf(error), exitCode: exitCodeOf(error) });
        subscriber.error(error);
      },
    );
    return () => {
      outer?.removeEventListener('abort', onOuterAbort);
      ended = true;
      stop.abort();
      for (const close of closers.splice(0).reverse()) {
        try {
          void Promise.resolve(close()).catch(() => undefined);
        } catch {
          // Letting go of one thing must not keep the others held.
        }
      }
    };
  });
}
