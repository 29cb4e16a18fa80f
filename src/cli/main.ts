/**
 * The `unetflow` command. Exit codes (the README's table; test/cli/exit-codes.test.ts
 * checks every row through this binary): 0 every file done, or a batch stopped by a
 * first Ctrl-C / SIGTERM / SIGHUP with none failed, or a watch run stopped by one
 * (whatever its files did: they are in the ledger); 1 some input of a batch failed, or
 * the run ended on an error after it started; 2 the pipeline file, the command line or
 * what they name is wrong (nothing was taken); 3 another run holds the output folder or
 * ledger; 4 an output folder could not be written (full, read-only, gone; no file
 * blamed); 128 + the signal's number (129 SIGHUP, 130 SIGINT, 143 SIGTERM) after a second signal.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Observable } from 'rxjs';
import type { RunEvent } from '../events.js';
import { loadPipeline, runPipeline } from '../pipeline/run.js';
import { inferenceBackendChoices, type InferenceBackendChoice } from '../model/engines/choice.js';
import { exitCodeOf, messageOf } from '../errors.js';
import { runCommand } from './command.js';
import { evaluateCommand } from './evaluate.js';
import { checkModelCommand } from './check-model.js';
import { exportCommand, type ExportFlags } from './export.js';
import { liveOptions, serveLedgerCommand, withLivePage, type ServeFlags } from './serve.js';
import { runProducer, wantsQueue } from '../queue/producer.js';
import { addWorkerCommand } from './worker.js';
import { addStatusCommand } from './status.js';
import { addAppCommand } from './app.js';

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
    .addOption(new Option('--json', 'print every event as NDJSON on stdout, one per line (docs/events.md); human-readable lines, warnings included, go to stderr'))
    .addOption(
      new Option('--backend <name>', 'backend for model steps that name none: onnxruntime (its best provider), onnxruntime-webgpu, -cuda or -cpu, or a tfjs one').choices(inferenceBackendChoices),
    )
    .option('--workers <n>', 'worker threads (onnxruntime: its threads) for model steps that name none (default: one per core)', positiveInt)
    .option('--queue <url>', 'enqueue the files on this Redis for `unetflow worker`s instead of processing them here, as a queue: section does (docs/scaling-out.md)')
    .addOption(liveOptions.serve())
    .addOption(liveOptions.host())
    .addOption(liveOptions.token())
    .addOption(liveOptions.keepServing())
    .action(async (file: string, opts: RunFlags) => {
      process.exitCode = await withLivePage(file, opts, process.stderr, (follow) => run(file, opts, follow));
    });

  program
    .command('serve')
    .description('serve the live results page (docs/live-page.md) for the output folder of a watch run, finished or running, until Ctrl-C')
    .requiredOption('--ledger <dir>', 'output folder holding .unetflow-ledger.jsonl (or the ledger file)')
    .addOption(liveOptions.port())
    .addOption(liveOptions.host())
    .addOption(liveOptions.token())
    .action(async (opts: ServeFlags & { ledger: string; port: number }) => {
      process.exitCode = await serveLedgerCommand(opts, process.stderr);
    });

  program
    .command('validate')
    .description('check a pipeline file without running it')
    .argument('<file>', 'pipeline file (YAML or JSON)')
    .option('--set <path=value>', 'override a field (repeatable)', collect, [])
    .action(async (file: string, opts: { set: string[] }) => {
      try {
        const plan = await loadPipeline(file, { set: opts.set });
        for (const note of plan.notes ?? []) process.stderr.write(`note: ${note.message}\n`);
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
    .option('--threshold <value>', 'prediction values above this are foreground (default: read from the file: masks and instance labels by their nonzero pixels, grey levels above half their range)')
    .addOption(new Option('--json', 'print one JSON line per image, then the mean'))
    .action(async (opts: { truth: string; pred: string; threshold?: string; json?: boolean }) => {
      const threshold = opts.threshold === undefined ? undefined : Number(opts.threshold);
      process.exitCode = await evaluateCommand(opts.truth, opts.pred, { json: opts.json, threshold });
    });

  program
    .command('export')
    .description('write a model folder as a bioimage.io model package (ONNX weights, test tensors, cover, README) that deepImageJ, ilastik, Icy and bioimageio.core run')
    .argument('<model-dir>', 'unetflow model folder (its metadata.json needs a `card`: authors, cite, license)')
    .requiredOption('--bioimageio <out>', 'package to write: a folder, or a zip when it ends in .zip')
    .requiredOption('--test-image <file>', 'an image the model is for: a crop of it becomes the test tensors and the cover')
    .action(async (dir: string, opts: ExportFlags) => {
      process.exitCode = await exportCommand(dir, opts);
    });

  program
    .command('check-model')
    .description("test a bioimage.io package (folder or zip) as bioimageio.core does: sha256 of its files, its test tensors at batch 1 and 2, several valid sizes, and which tools run its weights")
    .argument('<path>', 'package folder or zip (rdf.yaml / bioimageio.yaml), or a unetflow model folder')
    .action(async (path: string) => {
      process.exitCode = await checkModelCommand(path);
    });
  addWorkerCommand(program, positiveInt);
  addStatusCommand(program);
  addAppCommand(program);
  return program;
}

interface RunFlags extends ServeFlags {
  set: string[];
  json?: boolean;
  backend?: InferenceBackendChoice;
  workers?: number;
  queue?: string;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

async function run(file: string, opts: RunFlags, follow = (events: Observable<RunEvent>) => events): Promise<number> {
  // A run says why it failed in its last event (`run-failed`), which the renderer shows; after a second signal, the files in flight are redone next time.
  return runCommand({ json: opts.json, inFlight: 'files', errorsTold: true }, async (renderer, signal) => {
    let failed = 0;
    let watch = false;
    const options = { set: opts.set, signal, backend: opts.backend, workers: opts.workers };
    const events = (await wantsQueue(file, opts)) ? runProducer(file, { ...options, queue: opts.queue }) : runPipeline(file, options);
    await new Promise<void>((resolve, reject) =>
      follow(events).subscribe({
        next: (e) => {
          if (e.type === 'started') watch = e.watch;
          if (e.type === 'stats') failed = e.failed;
          renderer.event(e);
        },
        error: reject,
        complete: resolve,
      }),
    );
    return exitCodeOfRun(watch, signal.aborted, failed);
  });
}

/**
 * A run that ended without a run-level fault. A batch says whether every file was done;
 * a watch run, which may have run for days, says whether the run was healthy: stopped
 * because it was asked to (0) or on its own (1, a lock lost). Its files' failures are in
 * the ledger and the error reports, not in the code a supervisor reads.
 */
function exitCodeOfRun(watch: boolean, signalled: boolean, failed: number): number {
  if (watch) return signalled ? 0 : 1;
  return failed === 0 ? 0 : 1;
}

/** Prints an error the way a user should see it (no stack) and gives the exit code. */
function report(error: unknown): number {
  const code = exitCodeOf(error);
  process.stderr.write(code === 1 ? `unetflow: ${messageOf(error)}\n` : `${messageOf(error)}\n`);
  if (process.env.UNETFLOW_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
  return code;
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
