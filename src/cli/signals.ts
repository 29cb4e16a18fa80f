import { constants } from 'node:os';

/**
 * Ctrl-C (SIGINT) and SIGTERM for `run` and `worker`: the first aborts `stop`, so that
 * no new work is taken and what is in flight finishes; a second quits at once with
 * 128 + the signal's number (what was in flight is redone: it was never recorded).
 * Returns the function that removes the handlers.
 */
export function stopOnSignals(stop: AbortController, inFlight: 'files' | 'jobs'): () => void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(128 + (constants.signals[signal] ?? 2));
    signalled = true;
    process.stderr.write(`\n${signal}: finishing the ${inFlight} in progress (again to quit at once)\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
