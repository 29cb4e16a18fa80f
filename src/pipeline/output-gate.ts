/**
 * Waiting out an output folder that cannot be written (a full disk, a read-only or gone
 * folder: OutputUnwritable) in a run that goes on for days: files wait at the gate, which
 * tries the folder again with a growing pause (1 s, 2 s, ... 30 s), saying so each time,
 * and opens once a test write there works. Nothing waiting is recorded meanwhile.
 */
import type { RunEvent } from '../events.js';
import { probeWritable, type OutputUnwritable } from '../io/writable.js';

const FIRST_PAUSE_MS = 1000;
const LONGEST_PAUSE_MS = 30_000;

export class OutputGate {
  private closed?: Promise<void>;

  constructor(
    private readonly emit: (e: RunEvent) => void,
    private readonly signal: AbortSignal,
  ) {}

  /** Whether files wait now. */
  get waiting(): boolean {
    return this.closed !== undefined;
  }

  /** Resolves at once while the folder is writable; otherwise once it is again, or once the run stops. */
  async pass(): Promise<void> {
    while (this.closed && !this.signal.aborted) await this.closed;
  }

  /** Closes the gate on `condition` (a second call while closed changes nothing) and starts trying the folder. */
  close(condition: OutputUnwritable): void {
    if (this.closed) return;
    this.closed = this.wait(condition).finally(() => (this.closed = undefined));
  }

  private async wait({ dir, code, message }: OutputUnwritable): Promise<void> {
    this.emit({ type: 'log', level: 'warn', message: `${message}; waiting for it to be writable again` });
    for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
      this.emit({ type: 'log', level: 'warn', message: `${dir}: not writable (${code}); trying again in ${pause / 1000} s` });
      if (!(await this.sleep(pause))) return;
      const why = await probeWritable(dir);
      if (!why) break;
      code = why;
    }
    this.emit({ type: 'log', level: 'info', message: `${dir}: writable again; going on with the files that waited` });
  }

  /** False when the run stopped meanwhile. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.signal.aborted) return resolve(false);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
