/** `unetflow app ...` as a child process, for the app page's tests and benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve('bin/unetflow.js');

export interface AppCli {
  readonly child: ChildProcess;
  /** The address, once the command has printed it. */
  readonly url: Promise<string>;
  readonly exit: Promise<number | null>;
  stderr(): string;
}

export function startAppCli(args: string[]): AppCli {
  const child = spawn(process.execPath, [BIN, 'app', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = new Promise<string>((ok, fail) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /web app: (http:\/\/\S+)/.exec(err);
      if (m) ok(m[1]);
    });
    child.once('exit', () => fail(new Error(`unetflow app exited before serving:\n${err}`)));
  });
  url.catch(() => {});
  const exit = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, url, exit, stderr: () => err };
}
