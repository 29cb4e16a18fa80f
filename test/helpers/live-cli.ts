/** `unetflow run|serve ... --serve` as a child process, for the live page's tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve('bin/unetflow.js');

export interface LiveCli {
  readonly child: ChildProcess;
  /** The live page's address, once the command has printed it. */
  readonly url: Promise<string>;
  readonly exit: Promise<number | null>;
  stderr(): string;
}

export function startLiveCli(args: string[]): LiveCli {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout!.resume();
  const url = new Promise<string>((ok, fail) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /live page: (http:\/\/\S+)/.exec(err);
      if (m) ok(m[1]);
    });
    child.once('exit', () => fail(new Error(`unetflow exited before serving:\n${err}`)));
  });
  url.catch(() => {});
  const exit = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, url, exit, stderr: () => err };
}
