/**
 * Pipelines in a page: the runner the page's Web Worker (worker.ts) serves. It reads a
 * pipeline file's text with the CLI's own reader and compiles it with the CLI's own
 * compiler, codecs and operators (src/web/host/operators.ts), so that a file with a
 * mistake gets the messages `unetflow validate` gives (file:line:column, step path,
 * did-you-mean), and a step that cannot run in a page says so at its step.
 *
 * The page's paths: the pipeline is at `/pipelines/<name>`, so that relative paths in
 * the shipped pipelines (`model: ../models/isbi2012-em`) name `/models/...`, which is
 * found below the models root (the web app's URL, or a folder handle:
 * src/web/host/model-catalog.ts). The source's folder and `save.dir` are the folders the
 * user picks, whatever paths the file names.
 *
 * The run's contract with the page is the CLI's `--json` event stream (docs/events.md):
 * `started` first, `stats` last when the run completes, `run-failed` when it cannot start
 * or ends on an error (only `run-failed` when the file is wrong, as `unetflow run` prints).
 */
import { from, lastValueFrom, map, mergeMap, of, tap, type Observable } from 'rxjs';
import { LEDGER_FILE } from '../host/ledger-store.js';
import { SampleError } from '../errors.js';
import type { RunEvent } from '../events.js';
import { globToRegExp, IMAGE_PATTERN, isTemporaryName } from '../io/glob.js';
import { oneLine, reportPath } from '../pipeline/outcome.js';
import type { Sample, SourceRef } from '../sample.js';
import { HandleFolder } from './host/folder.js';
import type { DirectoryHandle } from './host/handles.js';
import { FolderImages } from './host/images.js';
import type { Mount } from './host/mounts.js';
import { folderOutputs } from './host/outputs.js';
import { FolderLedger } from './host/ledger.js';
import { FolderLedgerStore } from './host/ledger-store.js';
import { watchHandleFolder } from './host/watch.js';
import { pageEngine } from './host/engine.js';
import type { OrtWebModule } from './engine/predictor.js';
import { compile } from '../pipeline/compile.js';
import { parsePipelineText } from '../pipeline/document.js';
import type { Problem } from '../pipeline/document.js';
import { PipelineError } from '../pipeline/pipeline-error.js';
import { pageRegistry } from './host/operators.js';
import { PreloadedModelCatalog, type ModelsRoot } from './host/model-catalog.js';
import { basename, extname, resolve } from './host/path.js';

export type { ModelsRoot } from './host/model-catalog.js';

/** What the page offers: ONNX Runtime Web on WebGPU, on wasm, or the first that works. */
export type EngineChoice = 'auto' | 'webgpu' | 'wasm';

export interface PipelineText {
  /** The file's name, as messages give it (`demo.yaml:14:5 steps[3]...`). */
  readonly name: string;
  readonly text: string;
}

/** `unetflow validate`'s answer: its stdout line when the file is valid, else its stderr (every problem, one per line). */
export type Validation = { readonly valid: true; readonly line: string; readonly notes: readonly string[] } | { readonly valid: false; readonly message: string };

/** Where the runner places a pipeline file: relative paths in it resolve against this folder. */
export const PIPELINE_FOLDER = '/pipelines';

/**
 * Checks a pipeline file as `unetflow validate` does, with the same messages, and what
 * cannot run in a page (training, custom operators). Model
 * folders the steps name are read below `models` first.
 */
export async function validateInPage(pipeline: PipelineText, models: ModelsRoot): Promise<Validation> {
  const read = parsePipelineText(pipeline.text, pipeline.name, { env: {} });
  if (!read.document) return { valid: false, message: new PipelineError(pipeline.name, read.problems).message };
  const document = read.document;
  const own: Problem[] = [];
  const value = { ...(document.value as Record<string, unknown>) };
  if ('use' in value) {
    own.push({ path: ['use'], message: 'custom operators (use:) are loaded by the CLI only, not in a page: run this pipeline with unetflow run', ...document.locate(['use']) });
    delete value.use;
  }
  const catalog = await PreloadedModelCatalog.preload(models, modelDirs(value));
  const { plan, problems } = await compile({ ...document, value }, pageRegistry(), { models: catalog }, PIPELINE_FOLDER);
  // In the CLI's order (the file's, then the steps'), the page's own after them.
  const all = [...read.problems, ...problems, ...own];
  if (!plan || all.length) return { valid: false, message: new PipelineError(pipeline.name, all).message };
  return { valid: true, line: `${pipeline.name}: valid (${plan.steps.map((s) => s.name).join(' -> ')})`, notes: [] };
}

/**
 * The first events of a run in a page, as `unetflow run --json` gives them for a file
 * that cannot start: a `run-failed` with every problem and exit code 2, or nothing (the
 * file is valid). Emitted through `emit`.
 */
export async function refuseInvalid(pipeline: PipelineText, models: ModelsRoot, emit: (e: RunEvent) => void): Promise<boolean> {
  const checked = await validateInPage(pipeline, models);
  if (checked.valid) return false;
  emit({ type: 'run-failed', message: checked.message, exitCode: 2 });
  return true;
}

/** Page paths of the model folders a pipeline's steps name (`model:` and `from:` values). */
function modelDirs(value: Record<string, unknown>): string[] {
  const dirs: string[] = [];
  for (const step of Array.isArray(value.steps) ? value.steps : []) {
    if (!step || typeof step !== 'object') continue;
    for (const params of Object.values(step as Record<string, unknown>)) {
      if (!params || typeof params !== 'object') continue;
      for (const key of ['model', 'from']) {
        const v = (params as Record<string, unknown>)[key];
        if (typeof v === 'string') dirs.push(resolve(PIPELINE_FOLDER, v));
      }
    }
  }
  return dirs;
}

/** A run in a page: the pipeline, the folders the user picked, where the models are. */
export interface PageRun {
  readonly pipeline: PipelineText;
  /** The source's folder: its image files are the inputs (`files:`), whatever path the file names. */
  readonly input: DirectoryHandle;
  /** The first `save` step's folder, whatever `dir` the file names. */
  readonly output: DirectoryHandle;
  readonly models: ModelsRoot;
  readonly engine: EngineChoice;
  /** onnxruntime-web, for the model steps (its wasm files where the page serves them: env.wasm.wasmPaths). */
  readonly ort?: OrtWebModule;
  /** Aborting takes no new file; the files in flight finish, then `stats`. */
  readonly signal: AbortSignal;
}

/** Where the runner mounts the input folder; the output folder is mounted where the first `save` writes. */
export const INPUT_FOLDER = '/input';

/**
 * Runs a `files:` pipeline on the picked folders with the CLI's operators, emitting the
 * CLI's events: `started`, a `file-done` or `file-failed` per input file (a file fails
 * alone: the others go on), then `stats`; a wrong file gets only `run-failed` (exit code
 * 2). A `watch:` source takes the picked folder's files as they settle (src/web/host/watch.ts),
 * until `signal` aborts, keeping the CLI's ledger in the output folder (src/web/host/ledger.ts).
 * A failed file gets the CLI's report beside the outputs (`<name>.error.json`). Model
 * steps run on ONNX Runtime Web (`ort`; src/web/host/engine.ts).
 */
export async function runPipelineInPage(run: PageRun, emit: (e: RunEvent) => void): Promise<void> {
  if (await refuseInvalid(run.pipeline, run.models, emit)) return;
  const read = parsePipelineText(run.pipeline.text, run.pipeline.name, { env: {} });
  const document = read.document!;
  const value = document.value as { source?: Record<string, unknown>; concurrency?: number };
  const watching = Boolean(value.source && 'watch' in value.source);
  if (!value.source || !('files' in value.source || watching)) {
    emit({ type: 'run-failed', message: `${run.pipeline.name}: a page runs files: and watch: sources, on the folder you pick; this one runs with the CLI`, exitCode: 2 });
    return;
  }
  const input = new HandleFolder(run.input, run.input.name);
  const output = new HandleFolder(run.output, run.output.name);
  const failures = new Map<string, SampleError[]>();
  const catalog = await PreloadedModelCatalog.preload(run.models, modelDirs(value as Record<string, unknown>));
  // Compiled once to learn where save writes, then with that folder mounted there.
  const first = await compile(document, pageRegistry(), { models: catalog }, PIPELINE_FOLDER);
  const mounts: Mount[] = [{ at: INPUT_FOLDER, folder: input }, { at: first.plan?.outputDir ?? '/output', folder: output }];
  const hooks = {
    models: catalog,
    images: new FolderImages(mounts),
    outputs: folderOutputs(mounts),
    emit,
    signal: run.signal,
    backend: run.engine,
    ...(run.ort ? { engine: pageEngine(run.models, run.ort) } : {}),
    onSampleError: (error: SampleError) => failures.get(error.file ?? '')?.push(error),
  };
  const { plan } = await compile(document, pageRegistry(), hooks, PIPELINE_FOLDER);
  if (!plan) throw new Error('the pipeline compiled once and not again');
  const begun = Date.now();
  const counts = { done: 0, failed: 0, skipped: 0, unchangedFailed: 0 };
  const w = watching ? (value.source!.watch as string | { pattern?: string; recursive?: boolean; stableMs?: number }) : undefined;
  const query = typeof w === 'object' ? w : {};
  const pattern = globToRegExp(query.pattern ?? (query.recursive ? `**/${IMAGE_PATTERN}` : IMAGE_PATTERN));
  const files = watching ? [] : (await input.list()).filter((f) => pattern.test(f.path) && !isTemporaryName(basename(f.path))).map((f) => f.path);
  // A watch run keeps the CLI's ledger in the output folder: nothing done twice, across reloads and hosts.
  const ledger = watching ? await FolderLedger.open(new FolderLedgerStore(output, LEDGER_FILE), input, new FolderLedgerStore(output, `${LEDGER_FILE}.unreadable`)) : undefined;
  for (const message of ledger?.recovered ?? []) emit({ type: 'log', level: 'warn', message });
  emit({ type: 'started', pipeline: plan.definition.name, file: run.pipeline.name, time: new Date().toISOString(), watch: watching, ...(watching ? {} : { total: files.length }) });
  const perFile = plan.steps.filter((s) => s.scope === 'sample').map((s) => s.operator);
  /** `relative`: the input's path in the picked folder (the ledger's key). */
  const one = async (relative: string) => {
    const path = `${INPUT_FOLDER}/${relative}`;
    let fingerprint;
    if (ledger) {
      const check = await ledger.check(relative).catch(() => undefined); // gone since it was seen
      if (!check) return;
      if (!check.process) {
        if (check.reason === 'same-content') await ledger.recordSameContent(relative, check.fingerprint, check.entry);
        if (check.reason === 'failed-before') counts.unchangedFailed++;
        else counts.skipped++;
        return;
      }
      fingerprint = check.fingerprint;
    }
    const t0 = Date.now();
    const errors: SampleError[] = [];
    failures.set(path, errors);
    const outputs: Record<string, string> = {};
    const samples: Sample[] = [];
    try {
      await lastValueFrom(perFile.reduce<Observable<any>>((o, op) => o.pipe(op), of({ path, root: INPUT_FOLDER } satisfies SourceRef)).pipe(tap((s: Sample) => samples.push(s))), { defaultValue: undefined });
    } catch (error) {
      errors.push(SampleError.wrap({ file: path }, error));
    } finally {
      failures.delete(path);
    }
    const id = basename(path, extname(path));
    const ref: SourceRef = { path, root: INPUT_FOLDER };
    const report = plan.outputDir ? reportPath(plan.outputDir, ref) : undefined;
    if (errors.length) {
      // The CLI's report beside the outputs, every failure in full.
      if (report) await hooks.outputs.write(report, JSON.stringify({ file: path, time: new Date().toISOString(), errors: errors.map((f) => f.toJSON()) }, null, 2) + '\n');
      const [firstError] = errors;
      if (ledger && fingerprint) await ledger.record(relative, { ...fingerprint, status: 'failed', outputs: {}, error: oneLine(firstError.message) });
      counts.failed++;
      emit({
        type: 'file-failed',
        id: firstError.sample ?? id,
        file: path,
        ...(firstError.step ? { step: firstError.step } : {}),
        message: oneLine(firstError.message),
        ...(report ? { report } : {}),
        ...(errors.length > 1 ? { failures: errors.length } : {}),
      });
      return;
    }
    if (report) await hooks.outputs.remove(report); // an earlier failure's report no longer applies
    for (const s of samples) for (const [name, p] of Object.entries((s.metadata?.outputs ?? {}) as Record<string, string>)) outputs[samples.length > 1 ? `${s.id}.${name}` : name] = p;
    const objects = samples.reduce<number | undefined>((n, s) => (typeof s.metadata?.objects === 'number' ? (n ?? 0) + s.metadata.objects : n), undefined);
    const seconds = (Date.now() - t0) / 1000;
    if (ledger && fingerprint) await ledger.record(relative, { ...fingerprint, status: 'done', outputs, seconds, ...(objects !== undefined ? { objects } : {}) });
    counts.done++;
    emit({ type: 'file-done', id, file: path, seconds, outputs, ...(objects !== undefined ? { objects } : {}) });
  };
  const concurrency = Math.max(1, value.concurrency ?? 2);
  const source = watching ? watchHandleFolder(input, { ...query }, run.signal).pipe(map((f) => f.path)) : from(files);
  // One file at a time per path: a file seen again while in flight waits for that turn, then finds itself in the ledger.
  const inFlight = new Map<string, Promise<void>>();
  await lastValueFrom(source.pipe(mergeMap(async (relative) => {
    while (inFlight.has(relative)) await inFlight.get(relative);
    if (run.signal.aborted) return;
    const work = one(relative);
    inFlight.set(relative, work);
    try {
      await work;
    } finally {
      inFlight.delete(relative);
    }
  }, concurrency)), { defaultValue: undefined });
  emit({ type: 'stats', ...counts, seconds: (Date.now() - begun) / 1000 });
}
