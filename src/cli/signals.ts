import { constants } from 'node:os';

/** Ctrl-C, `kill` (systemd's stop), and a closed terminal or ssh session. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * SIGINT, SIGTERM and SIGHUP for `run` and `worker`: the first aborts `stop`, so that no
 * new work is taken, what is in flight finishes and the locks are released; a second
 * quits at once with 128 + the signal's number (what was in flight is redone: it was
 * never recorded). Returns the function that removes the handlers.
 */
export function stopOnSignals(stop: AbortController, inFlight: 'files' | 'jobs'): () => void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(128 + (constants.signals[signal] ?? 2));
    signalled = true;
    // After SIGHUP the terminal may be gone: what it would have shown is lost, not the run.
    if (signal === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    process.stderr.write(`\n${signal}: finishing the ${inFlight} in progress (again to quit at once)\n`);
    stop.abort();
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
}
