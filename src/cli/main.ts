/**
 * The `unetflow` command. Exit codes: 0 success (or stopped by a signal), 1 some
 * input failed or the run broke, 2 the pipeline file or the command line is wrong.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { PipelineError } from '../pipeline/compile.js';
import { loadPipeline, runPipeline } from '../pipeline/run.js';
import { inferenceBackendChoices } from '../model/backend.js';
import { ConfigError, messageOf } from '../errors.js';
import { jsonRenderer, textRenderer } from './render.js';
import { evaluateCommand } from './evaluate.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function createProgram(): Command {
  const program = new Command('unetflow')
    .description('U-Net segmentation pipelines for microscopy: run, validate, evaluate')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('run a pipeline file (watch sources run until Ctrl-C)')
    .argument('<file>', 'pipeline file (YAML or JSON)')
    .option('--set <path=value>', 'override a field, e.g. --set steps.3.save.dir=out (repeatable)', collect, [])
    .addOption(new Option('--json', 'print events as NDJSON on stdout (logs stay on stderr)'))
    .addOption(
      new Option('--backend <name>', 'backend for model steps that name none: a tfjs one, or onnxruntime (inference only; training then takes auto)').choices(inferenceBackendChoices),
    )
    .option('--workers <n>', 'worker threads (onnxruntime: its threads) for model steps that name none (default: one per core)', positiveInt)
    .action(async (file: string, opts: RunFlags) => {
      process.exitCode = await run(file, opts);
    });

  program
    .command('validate')
    .description('check a pipeline file without running it')
    .argument('<file>', 'pipeline file (YAML or JSON)')
    .option('--set <path=value>', 'override a field (repeatable)', collect, [])
    .action(async (file: string, opts: { set: string[] }) => {
      try {
        const plan = await loadPipeline(file, { set: opts.set });
        process.stdout.write(`${file}: valid (${plan.steps.map((s) => s.name).join(' -> ')})\n`);
        process.exitCode = 0;
      } catch (error) {
        process.exitCode = report(error);
      }
    });

  program
    .command('evaluate')
    .description('score predicted masks against ground truth: pixel, Rand, VI, warping errors, IoU, Dice (docs/metrics.md)')
    .requiredOption('--truth <path>', 'ground-truth image or folder (foreground = nonzero)')
    .requiredOption('--pred <path>', 'predicted mask or folder, matched to the truth by file name')
    .option('--threshold <value>', 'prediction values above this are foreground (default: 127 for 8-bit, 0.5 for float)')
    .addOption(new Option('--json', 'print one JSON line per image, then the mean'))
    .action(async (opts: { truth: string; pred: string; threshold?: string; json?: boolean }) => {
      const threshold = opts.threshold === undefined ? undefined : Number(opts.threshold);
      process.exitCode = await evaluateCommand(opts.truth, opts.pred, { json: opts.json, threshold });
    });
  return program;
}

interface RunFlags {
  set: string[];
  json?: boolean;
  backend?: string;
  workers?: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

async function run(file: string, opts: RunFlags): Promise<number> {
  const streams = { out: process.stdout, err: process.stderr };
  const renderer = opts.json ? jsonRenderer(streams) : textRenderer(streams);
  const stop = new AbortController();
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130); // second Ctrl-C: leave now; unfinished files are redone next time
    signalled = true;
    process.stderr.write(`\n${signal}: finishing the files in progress (again to quit at once)\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let failed = 0;
  try {
    await new Promise<void>((resolve, reject) =>
      runPipeline(file, { set: opts.set, signal: stop.signal, backend: opts.backend, workers: opts.workers }).subscribe({
        next: (e) => {
          if (e.type === 'stats') failed = e.failed;
          renderer.event(e);
        },
        error: reject,
        complete: resolve,
      }),
    );
    return signalled || failed === 0 ? 0 : 1;
  } catch (error) {
    renderer.close();
    return report(error);
  } finally {
    renderer.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Prints an error the way a user should see it (no stack) and gives the exit code. */
function report(error: unknown): number {
  if (error instanceof PipelineError || error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  process.stderr.write(`unetflow: ${messageOf(error)}\n`);
  if (process.env.UNETFLOW_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
  return 1;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    // commander has printed its own message (unknown command, missing argument, --help).
    const code = (error as { exitCode?: number }).exitCode;
    process.exitCode = code === 0 ? 0 : 2;
  }
}

await main();
