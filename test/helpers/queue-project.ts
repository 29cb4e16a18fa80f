/**
 * A folder for queue tests through the real binary: in/ with small PNGs, a pipeline
 * (load, a `slow` step, save) whose queue: section points at a test Redis with short
 * stalled-job timings, and the `slow` step (a custom operator module) that records each
 * processing as a marker file (and fails as the pipeline's fault where
 * UNETFLOW_TEST_BROKEN is set) and, while it sleeps, holds a temporary file in out/ named
 * as atomic.ts names them: a worker killed then has stopped mid-write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir, writePng } from './files.js';

export const BIN = resolve('bin/unetflow.js');

export interface QueueProject {
  readonly dir: string;
  readonly pipeline: string;
  /** Names of the markers in markers/: `<stem>.<pid>.<n>`, one per processing. */
  markers(): Promise<string[]>;
}

export interface ProjectOptions {
  readonly name: string;
  readonly url: string;
  readonly files: number;
  /** How long `slow` holds each file, ms. */
  readonly slowMs?: number;
  /** Also in/bad.png, which is not an image. */
  readonly bad?: boolean;
  /** Lines added to the queue: section. */
  readonly queue?: Record<string, number>;
  /** `slow` fails its first try of this stem with an EIO error (a transient failure). */
  readonly flaky?: string;
}

export async function queueProject(o: ProjectOptions): Promise<QueueProject> {
  const dir = await tempDir('unetflow-queue-');
  await mkdir(join(dir, 'in'));
  await mkdir(join(dir, 'markers'));
  await Promise.all(Array.from({ length: o.files }, (_, i) => writePng(join(dir, 'in', `f${String(i).padStart(3, '0')}.png`), i + 1, 16)));
  if (o.bad) await writeFile(join(dir, 'in', 'bad.png'), 'not an image');
  const url = (p: string) => JSON.stringify(pathToFileURL(resolve(p)).href);
  await writeFile(
    join(dir, 'slow.mjs'),
    `import { concatMap } from ${JSON.stringify(import.meta.resolve('rxjs'))};
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
const { temporaryPath } = await import(${url('src/io/atomic.ts')});
const { outputPath } = await import(${url('src/io/output-path.ts')});
const { ConfigError } = await import(${url('src/errors.ts')});
let n = 0;
export default {
  name: 'slow',
  params: { decode: (u) => ({ _tag: 'Right', right: u }) },
  create: (p) => (source) => source.pipe(concatMap(async (s) => {
    // A machine where the pipeline cannot run (its model will not load there, say).
    if (process.env.UNETFLOW_TEST_BROKEN) throw new ConfigError('slow: the model will not load on this machine');
    const stem = s.source.outputStem ?? s.id;
    writeFileSync(join(${JSON.stringify(dir)}, 'markers', stem + '.' + process.pid + '.' + ++n), '');
    const flag = join(${JSON.stringify(dir)}, 'markers', 'flaky-' + stem);
    if (stem === ${JSON.stringify(o.flaky ?? '')} && !existsSync(flag)) {
      writeFileSync(flag, '');
      throw Object.assign(new Error('read error on the share'), { code: 'EIO' });
    }
    const tmp = temporaryPath(outputPath(${JSON.stringify(join(dir, 'out'))}, s.source, 'image', 'png'));
    mkdirSync(dirname(tmp), { recursive: true });
    writeFileSync(tmp, 'half a file');
    await new Promise((r) => setTimeout(r, p.ms ?? 0));
    rmSync(tmp, { force: true });
    return s;
  })),
};
`,
  );
  const queue = { url: o.url, lockMs: 1000, stalledMs: 500, backoffMs: 200, ...o.queue };
  const pipeline = join(dir, 'pipeline.yaml');
  await writeFile(
    pipeline,
    `version: 1\nname: ${o.name}\nuse: ./slow.mjs\nqueue: ${JSON.stringify(queue)}\nsource: { files: in }\nsteps:\n  - load: {}\n  - slow: { ms: ${o.slowMs ?? 0} }\n  - save: { dir: out, outputs: [image] }\n`,
  );
  return { dir, pipeline, markers: async () => (await readdir(join(dir, 'markers'))).filter((n) => !n.startsWith('flaky-')) };
}

/** A unetflow process: its output so far, a wait for a line, and its exit code. */
export interface Cli {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exit: Promise<number | null>;
  /** Resolves once stdout or stderr has matched `pattern`. */
  waitFor(pattern: RegExp): Promise<void>;
}

export function startCli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const waiting: { pattern: RegExp; resolve: () => void }[] = [];
  const cli: Cli = {
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((r) => child.once('exit', (code, signal) => r(code ?? (signal ? -1 : null)))),
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        if (pattern.test(cli.stdout) || pattern.test(cli.stderr)) return resolve();
        waiting.push({ pattern, resolve });
        void cli.exit.then((code) => reject(new Error(`exited (${code}) before ${pattern}:\n${cli.stderr}`)));
      }),
  };
  const check = () => {
    for (const w of [...waiting]) {
      if (w.pattern.test(cli.stdout) || w.pattern.test(cli.stderr)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on('data', (d: Buffer) => ((cli.stdout += d.toString()), check()));
  child.stderr!.on('data', (d: Buffer) => ((cli.stderr += d.toString()), check()));
  return cli;
}

/** The NDJSON events a `--json` process printed. */
export function events(cli: Cli): { type: string; [key: string]: unknown }[] {
  return cli.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}
