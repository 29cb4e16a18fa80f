/** `unetflow run` of a watch pipeline as a child process: its output as it comes, waits on what it prints, and its exit. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve('bin/unetflow.js');
/** Killed when a test fails half-way: a watch run never ends on its own. */
const running = new Set<ChildProcess>();

export function killWatchRuns(): void {
  for (const child of running) child.kill('SIGKILL');
}

export interface WatchRun {
  readonly child: ChildProcess;
  /** stdout and stderr together, as printed so far. */
  output(): string;
  /** The exit code, or the signal that ended it. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** Resolves once the output matches `what`; fails (with the output) after `ms`, or when the run ends without it. */
  until(what: RegExp, ms?: number): Promise<void>;
}

export function startWatchRun(pipeline: string, env: NodeJS.ProcessEnv = {}): WatchRun {
  const child = spawn(process.execPath, [BIN, 'run', pipeline], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    text += d;
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let ended = false;
  const exited = new Promise<number | NodeJS.Signals | null>((r) =>
    child.on('exit', (code, signal) => {
      ended = true;
      running.delete(child);
      for (const w of waiters) w();
      r(code ?? signal);
    }),
  );
  running.add(child);
  const until = (what: RegExp, ms = 60000) =>
    new Promise<void>((ok, fail) => {
      const check = () => {
        if (what.test(text)) return done(ok);
        if (ended) return done(() => fail(new assert.AssertionError({ message: `the run ended without printing ${what}:\n${text}` })));
      };
      const timer = setTimeout(() => done(() => fail(new assert.AssertionError({ message: `not printed within ${ms / 1000} s: ${what}\n${text}` }))), ms);
      const done = (then: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        then();
      };
      waiters.add(check);
      check();
    });
  return { child, output: () => text, exited, until };
}
