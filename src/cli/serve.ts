/**
 * The live page from the command line: `unetflow run PIPELINE --serve [PORT]` serves it
 * beside the run, `unetflow serve --ledger DIR` for a watch run's output folder
 * (docs/live-page.md). The page only follows the run: the run's exit code is what it
 * would be without it, and when a finite run ends the process ends with it, unless
 * `--keep-serving` asks to keep the page up until Ctrl-C.
 */
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { Subject, tap, type Observable } from 'rxjs';
import type { RunEvent } from '../events.js';
import { messageOf } from '../errors.js';
import { readPipelineFile } from '../pipeline/document.js';
import { isLoopback, maskToken } from '../serve/access.js';
import { ledgerEvents, locateLedger } from '../serve/ledger-source.js';
import { startLiveServer, type LiveServer } from '../serve/server.js';
import type { ServeEvent } from '../serve/state.js';
import { printable } from './render.js';

export interface ServeFlags {
  /** `--serve` alone: true; `--serve 9000`: the port. */
  serve?: number | true;
  host?: string;
  token?: string;
  keepServing?: boolean;
}

export const DEFAULT_PORT = 8080;
export const TOKEN_VARIABLE = 'UNETFLOW_SERVE_TOKEN';

export function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port number (0 for any free port), got '${value}'`);
  return n;
}

/** The options, for `run` and `serve` alike. */
export const liveOptions = {
  serve: () => new Option('--serve [port]', `serve a live results page for the run on 127.0.0.1 (port ${DEFAULT_PORT} unless given; docs/live-page.md)`).argParser(portNumber),
  port: () => new Option('--port <port>', 'port of the live page (0: any free port)').argParser(portNumber).default(DEFAULT_PORT),
  host: () => new Option('--host <address>', 'address the live page listens on (default 127.0.0.1; 0.0.0.0 exposes it to the network: give --token)'),
  token: () => new Option('--token <token>', `a secret the page asks for before showing anything (or set ${TOKEN_VARIABLE})`),
  keepServing: () => new Option('--keep-serving', 'keep the live page up after a run on a files source ends, until Ctrl-C'),
};

type Err = { write(s: string): unknown };

/**
 * Runs `run` with the live page beside it when `--serve` was given: `follow` passes the
 * run's events through unchanged while the page folds them. A page that cannot start (a
 * port in use) is a command-line problem: exit code 2, before the run takes a file.
 */
export async function withLivePage(
  file: string,
  flags: ServeFlags & { set: string[] },
  err: Err,
  run: (follow?: (events: Observable<RunEvent>) => Observable<RunEvent>) => Promise<number>,
): Promise<number> {
  if (flags.serve === undefined) {
    if (flags.host === undefined && flags.token === undefined && !flags.keepServing) return run();
    err.write('--host, --token and --keep-serving are options of the live page: add --serve [PORT]\n');
    return 2;
  }
  const events = new Subject<ServeEvent>();
  let server: LiveServer;
  try {
    server = await open(events, await outputFolders(file, flags.set), flags, err);
  } catch (error) {
    err.write(`${messageOf(error)}\n`);
    return 2;
  }
  try {
    const code = await run((run$) => run$.pipe(tap({ next: (e) => events.next(e), error: () => events.complete(), complete: () => events.complete() })));
    if (flags.keepServing) {
      err.write(`the run has ended (exit code ${code}); the live page stays at ${server.url} until Ctrl-C\n`);
      await untilSignal();
    }
    return code;
  } finally {
    await server.close();
  }
}

/** `unetflow serve --ledger DIR`: serves until Ctrl-C or SIGTERM. */
export async function serveLedgerCommand(flags: ServeFlags & { ledger: string; port: number }, err: Err): Promise<number> {
  let server: LiveServer;
  try {
    const { ledger, folder } = await locateLedger(flags.ledger);
    server = await open(ledgerEvents(ledger), [folder], { ...flags, serve: flags.port }, err);
  } catch (error) {
    err.write(`${messageOf(error)}\n`);
    return 2;
  }
  await untilSignal();
  await server.close();
  return 0;
}

async function open(events: Observable<ServeEvent>, roots: string[], flags: ServeFlags, err: Err): Promise<LiveServer> {
  const host = flags.host ?? '127.0.0.1';
  const token = flags.token ?? process.env[TOKEN_VARIABLE] ?? undefined;
  const server = await startLiveServer(events, {
    roots,
    host,
    port: flags.serve === true || flags.serve === undefined ? DEFAULT_PORT : flags.serve,
    ...(token ? { token } : {}),
    onError: (error) => err.write(`live page: ${printable(messageOf(error))} (the run goes on)\n`),
  });
  err.write(`live page: ${server.url}${token ? ` (token required: add ?token=<the token> once; token ${maskToken(token)})` : ''}\n`);
  if (!isLoopback(host) && !token) {
    err.write(`warning: the live page listens on ${host} without a token: anyone who can reach this machine can see the run and its images (give --token, or ${TOKEN_VARIABLE})\n`);
  }
  return server;
}

/** The run's output folders: every `save` step's `dir`, resolved as the run resolves it. A file that does not read gives none (the run says why). */
export async function outputFolders(file: string, set: readonly string[]): Promise<string[]> {
  const { document } = await readPipelineFile(file, { set });
  const steps = (document?.value as { steps?: unknown } | undefined)?.steps;
  if (!Array.isArray(steps)) return [];
  const base = dirname(resolve(file));
  return steps.flatMap((step) => {
    const dir = (step as { save?: { dir?: unknown } } | null)?.save?.dir;
    return typeof dir === 'string' ? [resolve(base, dir)] : [];
  });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
