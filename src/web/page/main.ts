/// <reference lib="dom" />
/**
 * The app page: choose a pipeline (the Quick start job unless another is picked), an input
 * and an output folder and an engine, then follow the job. The work runs in the runner's
 * Web Worker; this thread only draws, so the page stays responsive whatever the images do.
 */
// Bundled beside page.js as page.css, with the live page's stylesheet it builds on.
import './page.css';
import { $ } from './dom.js';
import { canPickFolders, copyChosenFiles, listFiles, pickFolder, privateFolder } from './folders.js';
import type { EngineChoice, JobRunner, Validation } from './job.js';
import { bundledPipeline, bundledPipelines, pickedPipeline, QUICK_START, type PipelineText } from './pipelines.js';
import { createRunner } from './runner-client.js';
import { offerDownloads } from './downloads.js';
import { registerServiceWorker } from './offline.js';
import { installTestHook } from './test-hook.js';
import { JobView } from './views.js';

interface Chosen {
  pipeline?: PipelineText;
  validation?: Validation;
  input?: FileSystemDirectoryHandle;
  inputName?: string;
  output?: FileSystemDirectoryHandle;
  /** The outputs go to a private folder and are offered as downloads (no folder picker here). */
  downloads: boolean;
  running?: AbortController;
}

const chosen: Chosen = { downloads: !canPickFolders() };
const view = new JobView();
let runner: JobRunner;

/** Image files the job can take: what a `files` source reads (src/pipeline/sources). */
const IMAGE = /\.(png|jpe?g|tiff?)$/i;

async function choosePipeline(load: () => Promise<PipelineText>): Promise<void> {
  const validation = $('validation');
  try {
    chosen.pipeline = await load();
  } catch (error) {
    chosen.pipeline = undefined;
    chosen.validation = undefined;
    validation.dataset.state = 'invalid';
    validation.textContent = (error as Error).message;
    return update();
  }
  $('pipeline-name').textContent = chosen.pipeline.name;
  $('pipeline-text').textContent = chosen.pipeline.text;
  validation.dataset.state = 'checking';
  validation.textContent = `checking ${chosen.pipeline.name}…`;
  const pipeline = chosen.pipeline;
  const result = await runner.validate(pipeline);
  if (chosen.pipeline !== pipeline) return;
  chosen.validation = result;
  validation.dataset.state = result.valid ? 'valid' : 'invalid';
  validation.textContent = result.valid ? [...result.notes.map((n) => `note: ${n}`), result.line].join('\n') : result.message;
  update();
}

function showFolder(id: string, name: string | undefined): void {
  $(id).textContent = name ?? 'no folder chosen';
  $(id).classList.toggle('muted', name === undefined);
}

function useFolders(input: FileSystemDirectoryHandle, output: FileSystemDirectoryHandle | undefined, inputName = input.name): void {
  chosen.input = input;
  chosen.inputName = inputName;
  chosen.output = output;
  showFolder('input-chosen', inputName);
  showFolder('output-chosen', output?.name ?? (chosen.downloads ? 'downloads' : undefined));
  update();
}

/** Start is offered once a valid pipeline and both folders are there, and nothing runs. */
function update(): void {
  const why = chosen.running
    ? 'running'
    : !chosen.validation
      ? 'choose a pipeline'
      : !chosen.validation.valid
        ? 'the pipeline has mistakes (above)'
        : !chosen.input
          ? 'choose the input folder'
          : !chosen.output && !chosen.downloads
            ? 'choose the output folder'
            : '';
  $<HTMLButtonElement>('start').disabled = why !== '';
  $<HTMLButtonElement>('stop').disabled = !chosen.running;
  $('start-why').textContent = why === 'running' ? '' : why;
  for (const id of ['pipeline-choice', 'pipeline-file', 'pick-input', 'pick-output', 'input-files', 'engine-choice']) {
    ($(id) as HTMLInputElement).disabled = chosen.running !== undefined;
  }
}

async function start(): Promise<void> {
  if (!chosen.pipeline || !chosen.input || chosen.running) return;
  const output = chosen.output ?? (await privateFolder('outputs'));
  const stop = new AbortController();
  chosen.running = stop;
  update();
  $('downloads').hidden = true;
  const inputs = (await listFiles(chosen.input)).map((f) => f.path).filter((p) => IMAGE.test(p));
  view.reset(output, inputs);
  const engine = $<HTMLSelectElement>('engine-choice').value as EngineChoice;
  try {
    const running = runner.run({ pipeline: chosen.pipeline, input: chosen.input, output, engine, signal: stop.signal }, (e) => view.event(e));
    view.started();
    await running;
  } catch (error) {
    view.event({ type: 'run-failed', message: (error as Error).message, exitCode: 1 });
  } finally {
    chosen.running = undefined;
    update();
    if (!chosen.output) await offerDownloads(output);
  }
}

async function main(): Promise<void> {
  runner = createRunner();
  installTestHook({ useFolders: (input, output) => useFolders(input, output), view });

  const select = $<HTMLSelectElement>('pipeline-choice');
  // A file opened while the list still loads is kept: the Quick start is only what nothing chosen gives.
  let opened = false;
  $<HTMLInputElement>('pipeline-file').addEventListener('change', (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    opened = true;
    if (file) void choosePipeline(() => pickedPipeline(file));
  });
  select.addEventListener('change', () => void choosePipeline(() => bundledPipeline(select.value)));
  for (const name of await bundledPipelines()) select.append(new Option(name, name, name === QUICK_START, name === QUICK_START));

  if (chosen.downloads) {
    // No folder picker: images through a file input, outputs as downloads.
    $('pick-input').hidden = true;
    $('pick-output').hidden = true;
    $('input-files-box').hidden = false;
    $('folder-note').hidden = false;
    showFolder('output-chosen', 'downloads');
    $<HTMLInputElement>('input-files').addEventListener('change', async (e) => {
      const files = (e.target as HTMLInputElement).files;
      if (files?.length) useFolders(await copyChosenFiles(files), undefined, `${files.length} file${files.length === 1 ? '' : 's'}`);
    });
  } else {
    $('pick-input').addEventListener('click', async () => {
      const folder = await pickFolder('read', 'unetflow-input');
      if (folder) useFolders(folder, chosen.output);
    });
    $('pick-output').addEventListener('click', async () => {
      const folder = await pickFolder('readwrite', 'unetflow-output');
      if (folder && chosen.input) useFolders(chosen.input, folder, chosen.inputName);
      else if (folder) {
        chosen.output = folder;
        showFolder('output-chosen', folder.name);
        update();
      }
    });
  }
  $('job').addEventListener('submit', (e) => {
    e.preventDefault();
    void start();
  });
  $('stop').addEventListener('click', () => chosen.running?.abort());

  update();
  if (!opened) await choosePipeline(() => bundledPipeline(select.value || QUICK_START));
  void registerServiceWorker();
}

void main();
