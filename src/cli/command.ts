/**
 * What `run` and `worker` share around their work: the renderer (NDJSON on stdout with
 * --json, render.ts), the signals that stop them (signals.ts), and the exit code of an
 * error that ends them.
 */
import { exitCodeOf, messageOf } from '../errors.js';
import { jsonRenderer, textRenderer, type Renderer } from './render.js';
import { stopOnSignals } from './signals.js';

export interface CommandSetup {
  readonly json?: boolean;
  /** What a first signal lets finish: named in the line it prints. */
  readonly inFlight: 'files' | 'jobs';
  /** Whether an error that ends the work has been told already (by a `run-failed` event), or is printed here. */
  readonly errorsTold: boolean;
}

/** Runs `work`, which resolves with the exit code; `signal` aborts at the first SIGINT, SIGTERM or SIGHUP. */
export async function runCommand(setup: CommandSetup, work: (renderer: Renderer, signal: AbortSignal) => Promise<number>): Promise<number> {
  const streams = { out: process.stdout, err: process.stderr };
  const renderer = setup.json ? jsonRenderer(streams) : textRenderer(streams);
  const stop = new AbortController();
  const removeHandlers = stopOnSignals(stop, setup.inFlight);
  try {
    return await work(renderer, stop.signal);
  } catch (error) {
    if (!setup.errorsTold) process.stderr.write(`${messageOf(error)}\n`);
    if (process.env.UNETFLOW_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return exitCodeOf(error);
  } finally {
    renderer.close();
    removeHandlers();
  }
}
