/** `unetflow worker PIPELINE --queue URL [--concurrency N]`: processes a queue's jobs until stopped. */
import { Option, type Command } from 'commander';
import { inferenceBackendChoices, type InferenceBackendChoice } from '../model/engines/choice.js';
import { runWorker } from '../queue/worker.js';
import { runCommand } from './command.js';

interface WorkerFlags {
  queue?: string;
  concurrency?: number;
  set: string[];
  json?: boolean;
  backend?: InferenceBackendChoice;
  workers?: number;
}

export function addWorkerCommand(program: Command, positiveInt: (value: string) => number): void {
  program
    .command('worker')
    .description("take a pipeline's files from a Redis queue and process them, until SIGTERM or Ctrl-C (docs/scaling-out.md)")
    .argument('<file>', 'pipeline file (YAML or JSON), the same as the producer runs')
    .option('--queue <url>', "the queue's Redis: redis://[user:password@]host:port/db or rediss:// (default: the file's queue: section); a password may come from UNETFLOW_REDIS_PASSWORD")
    .option('--concurrency <n>', "jobs at once (default: the pipeline's concurrency, else 2)", positiveInt)
    .option('--set <path=value>', 'override a field, e.g. --set source.files=/mnt/lab/in (repeatable)', (v: string, p: string[]) => [...p, v], [])
    .addOption(new Option('--json', 'print this worker\'s events as NDJSON on stdout'))
    .addOption(new Option('--backend <name>', 'backend for model steps that name none').choices(inferenceBackendChoices))
    .option('--workers <n>', 'worker threads for model steps that name none', positiveInt)
    .action(async (file: string, opts: WorkerFlags) => {
      process.exitCode = await workerCommand(file, opts);
    });
}

function workerCommand(file: string, opts: WorkerFlags): Promise<number> {
  // After a second signal, the jobs in flight go back to the queue when their lock runs out.
  return runCommand({ json: opts.json, inFlight: 'jobs', errorsTold: false }, async (renderer, signal) => {
    await runWorker(file, { ...opts, signal }, (e) => renderer.event(e));
    return 0;
  });
}
