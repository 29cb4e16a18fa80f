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
import type { RunEvent } from '../events.js';
import { compile } from '../pipeline/compile.js';
import { parsePipelineText } from '../pipeline/document.js';
import type { Problem } from '../pipeline/document.js';
import { PipelineError } from '../pipeline/pipeline-error.js';
import { pageRegistry } from './host/operators.js';
import { PreloadedModelCatalog, type ModelsRoot } from './host/model-catalog.js';
import { resolve } from './host/path.js';

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
