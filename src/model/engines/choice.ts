/**
 * Which engine a model step gets: the one place that decides. It holds `auto`'s order,
 * a forced choice (which throws, naming why, where it cannot load), the skipped lines
 * that say why each preferred engine was passed over, the default threads and each
 * engine's memory budget; the engines themselves are one file each (cpu.ts, wasm.ts,
 * tfjs-node.ts, webgpu.ts, onnxruntime.ts). tfjs keeps one engine per thread, so the
 * choice is per-thread state: made once, before building a model. A replica thread is
 * handed the engine this thread resolved to and loads that one (threads/replica.ts).
 *
 * Training, `auto` (engine.ts's tfjsEngineNames): tfjs-node-gpu, then WebGPU on a
 * hardware adapter, then tfjs-node, then wasm (with the gradient kernels it lacks),
 * then cpu. tfjs-node-gpu comes before WebGPU because it runs TensorFlow's own CUDA
 * kernels (cuDNN convolutions), where tfjs-backend-webgpu runs tfjs's portable WGSL
 * shaders through Dawn; the order is reasoned, not measured (bench/unet.bench.ts has
 * entries for both, to be run where both install). The GPU packages are optional
 * dependencies, imported through optional.ts, which also honours UNETFLOW_WITHOUT.
 *
 * Inference, `auto`: ONNX Runtime's WebGPU provider on a hardware adapter, then its
 * CUDA provider where installed (onnxruntime-providers.ts), then the GPU engines of
 * tfjs's order (a GPU beats a CPU provider), then ONNX Runtime's CPU provider, which
 * threads each operator over every core where wasm uses one per engine, then the rest
 * of tfjs's order. The WebGPU provider comes first because it runs ONNX Runtime's own
 * kernels, needs only a GPU driver, and ran the U-Net within 1e-5 of the CPU provider;
 * the order between the GPU engines is reasoned, not yet measured on a GPU. A tfjs name
 * keeps inference on tfjs; `onnxruntime` requires ONNX Runtime (its providers in
 * `auto`'s order), `onnxruntime-<provider>` that provider on any adapter.
 */
import type { UNet } from '../network/unet.js';
import type { Trainer, TrainerOptions } from '../training/trainer.js';
import { cpu } from './cpu.js';
import {
  backendChoices,
  budgetWithin,
  inferenceBackendChoices,
  tfjsEngineNames,
  type BackendChoice,
  type BackendInfo,
  type BudgetOptions,
  type EngineName,
  type EngineRules,
  type InferenceBackendChoice,
  type Predictor,
  type StepRunner,
  type TfjsEngine,
  type TfjsEngineName,
} from './engine.js';
import { loadOnnxRuntime, onnxRuntime, openOnnxPredictor, type OnnxRuntime, type OnnxRuntimeImport } from './onnxruntime.js';
import { onnxProviders, openProvider, providerBackend, type OnnxProvider, type OpenedProvider, type ProviderBackend } from './onnxruntime-providers.js';
import { PackageMissing } from './optional.js';
import { openTfjsPredictor, openTfjsStepRunner } from './tfjs.js';
import { node, nodeGpu } from './tfjs-node.js';
import { wasm } from './wasm.js';
import { webgpu } from './webgpu.js';

export { backendChoices, inferenceBackendChoices };
export type { BackendChoice, BackendInfo, InferenceBackendChoice, Predictor, StepRunner };

const tfjsEngines: Record<TfjsEngineName, TfjsEngine> = { 'node-gpu': nodeGpu, webgpu, node, wasm, cpu };
const engines: Record<EngineName, EngineRules> = { ...tfjsEngines, onnxruntime: onnxRuntime };

/**
 * A choice given from code, checked: a typo is a clear error naming the choices rather
 * than a missing loader deep down. @param where names the asker, e.g. `steps[3].unet`
 */
export function inferenceBackendChoice(choice: string, where: string): InferenceBackendChoice {
  if ((inferenceBackendChoices as readonly string[]).includes(choice)) return choice as InferenceBackendChoice;
  throw new RangeError(`${where}: backend '${choice}' is not one of ${inferenceBackendChoices.join(', ')}`);
}

let current: Promise<BackendInfo> | undefined;
let currentChoice: InferenceBackendChoice | undefined;

/**
 * Selects the tfjs engine (once per thread; later calls with the same choice return
 * the same answer, a different one switches). A forced choice that cannot load throws,
 * naming why. `onnxruntime` (a run-wide `--backend onnxruntime`, meant for the
 * inference steps) takes tfjs's `auto` and says so among the skipped.
 */
export function useBackend(choice: InferenceBackendChoice = 'auto'): Promise<BackendInfo> {
  if (current && currentChoice === choice) return current;
  try {
    inferenceBackendChoice(choice, 'useBackend');
  } catch (error) {
    return Promise.reject(error);
  }
  currentChoice = choice;
  current = select(choice);
  current.catch(() => {
    current = undefined;
    currentChoice = undefined;
  });
  return current;
}

async function select(choice: InferenceBackendChoice): Promise<BackendInfo> {
  if (isOnnxChoice(choice)) {
    const tfjs = await select('auto');
    return { ...tfjs, skipped: [`${choice}: inference only`, ...tfjs.skipped] };
  }
  if (choice !== 'auto') {
    try {
      return await loadTfjs(tfjsEngines[choice], choice, false, []);
    } catch (error) {
      throw new Error(`backend '${choice}' is not available: ${(error as Error).message}`, { cause: error });
    }
  }
  const skipped: string[] = [];
  for (const name of tfjsEngineNames) {
    try {
      return await loadTfjs(tfjsEngines[name], choice, true, skipped);
    } catch (error) {
      skipped.push(`${name}: ${skipReason(error)}`);
    }
  }
  throw new Error(`no tfjs backend could be loaded:\n  ${skipped.join('\n  ')}`);
}

async function loadTfjs(engine: TfjsEngine, choice: BackendChoice, auto: boolean, skipped: string[]): Promise<BackendInfo> {
  const { adapter } = await engine.load(auto);
  return { choice, engine: engine.name, name: engine.backendName, package: engine.package, skipped, ...(adapter && { adapter }) };
}

/** Whether a skipped line is about a GPU engine, which inference's `auto` prefers to ONNX Runtime. */
const isGpuLine = (line: string) => tfjsEngineNames.some((name) => tfjsEngines[name].gpu && line.startsWith(`${name}:`));

/** What inference runs on: a tfjs engine, or ONNX Runtime bound to one provider. */
export type InferenceBackend =
  | { readonly engine: 'tfjs'; readonly info: BackendInfo }
  | { readonly engine: 'onnxruntime'; readonly info: BackendInfo; readonly onnxruntime: OnnxRuntime };

/** Whether `choice` asks for ONNX Runtime (`onnxruntime`, `onnxruntime-<provider>`). */
function isOnnxChoice(choice: string): choice is 'onnxruntime' | ProviderBackend {
  return choice === 'onnxruntime' || choice.startsWith('onnxruntime-');
}

/**
 * ONNX Runtime on the first of `providers` that loads (`auto`: refusing a WebGPU
 * adapter that is software or unknown), pushing a line to `skipped` for each that does
 * not; undefined where none does.
 */
async function firstProvider(runtime: OnnxRuntime, providers: readonly OnnxProvider[], auto: boolean, skipped: string[]): Promise<OpenedProvider | undefined> {
  for (const provider of providers) {
    try {
      return await openProvider(runtime, provider, auto);
    } catch (error) {
      skipped.push(`${providerBackend(provider)}: ${skipReason(error)}`);
    }
  }
  return undefined;
}

let onnxRuntimeLoaded: Promise<OnnxRuntime> | undefined;

/**
 * Selects where inference runs (the module comment gives the order); `skipped` lists
 * what `auto` passed over, in order of preference.
 * @param importer imports onnxruntime-node; tests replace it @default a dynamic import
 */
export async function useInferenceBackend(choice: InferenceBackendChoice = 'auto', importer?: OnnxRuntimeImport): Promise<InferenceBackend> {
  inferenceBackendChoice(choice, 'useInferenceBackend');
  const ort = (): Promise<OnnxRuntime> => {
    if (importer) return loadOnnxRuntime(importer);
    onnxRuntimeLoaded ??= loadOnnxRuntime();
    onnxRuntimeLoaded.catch(() => (onnxRuntimeLoaded = undefined));
    return onnxRuntimeLoaded;
  };
  const onOrt = async (runtime: OnnxRuntime, opened: OpenedProvider, skipped: string[]): Promise<InferenceBackend> => {
    // tfjs still reads the model's weights: on its usual backend, not on the cpu one
    // it would otherwise fall back to (which also prints a hint to install tfjs-node).
    await useBackend('auto');
    const info: BackendInfo = { choice, engine: 'onnxruntime', name: 'onnxruntime', package: onnxRuntime.package, skipped, ...opened };
    return { engine: 'onnxruntime', info, onnxruntime: { ...runtime, provider: opened.provider } };
  };
  if (isOnnxChoice(choice)) {
    const notAvailable = (why: string, cause?: unknown) => new Error(`backend '${choice}' is not available: ${why}`, { cause });
    const runtime = await ort().catch((error: Error) => {
      throw notAvailable(error.message, error);
    });
    if (choice === 'onnxruntime') {
      const skipped: string[] = [];
      return onOrt(runtime, (await firstProvider(runtime, onnxProviders, true, skipped))!, skipped);
    }
    const provider = choice.slice('onnxruntime-'.length) as OnnxProvider;
    const opened = await openProvider(runtime, provider, false).catch((error: Error) => {
      throw notAvailable(error.message, error);
    });
    return onOrt(runtime, opened, []);
  }
  if (choice !== 'auto') return { engine: 'tfjs', info: await useBackend(choice) };
  // ONNX Runtime's GPU providers first, then tfjs's auto, which tries its GPU engines first.
  const skipped: string[] = [];
  const runtime = await ort().catch((error: Error) => void skipped.push(`onnxruntime: ${skipReason(error)}`));
  const gpu = runtime && (await firstProvider(runtime, ['webgpu', 'cuda'], true, skipped));
  if (runtime && gpu) return onOrt(runtime, gpu, skipped);
  const tfjs = await useBackend('auto');
  if (engines[tfjs.engine].gpu) return { engine: 'tfjs', info: { ...tfjs, choice, skipped: [...skipped, ...tfjs.skipped] } };
  // Where ONNX Runtime is missing its one line stands where its CPU provider would have been taken.
  const missing = skipped.filter((s) => s.startsWith('onnxruntime:'));
  const gpuLines = [...skipped.filter((s) => !s.startsWith('onnxruntime:')), ...tfjs.skipped.filter(isGpuLine)];
  if (runtime) return onOrt(runtime, { provider: 'cpu' }, gpuLines);
  return { engine: 'tfjs', info: { ...tfjs, skipped: [...gpuLines, ...missing, ...tfjs.skipped.filter((s) => !isGpuLine(s))] } };
}

/** Threads a model step uses on the engine when neither the step nor the run names any. */
export function defaultThreads(info: Pick<BackendInfo, 'engine'>): number {
  return engines[info.engine].defaultThreads();
}

/**
 * Tensor bytes one inference chunk may hold on `engine`: its own budget (the engine
 * files say why), at most half the machine's memory over the engines running side by side.
 */
export function memoryBudget(engine: EngineName, { engines: count = 1, weightBytes = 0 }: BudgetOptions = {}): number {
  return budgetWithin(engines[engine].ownBudget(weightBytes), { engines: count });
}

/**
 * The budget `tile: { size: auto }` chooses tile sizes under, known before any engine
 * is loaded: that of the backend `choice` (a run's or step's `backend`), and for `auto`
 * the smaller of ONNX Runtime's and wasm's, either of which it may pick. One tile per
 * chunk: the predictors cut a batch into chunks that fit, whatever the tile size.
 */
export function plannedBudget(choice: string, weightBytes: number): number {
  inferenceBackendChoice(choice, 'tile size');
  const names: EngineName[] = choice === 'auto' ? ['onnxruntime', 'wasm'] : [isOnnxChoice(choice) ? 'onnxruntime' : (choice as EngineName)];
  return Math.min(...names.map((name) => memoryBudget(name, { weightBytes })));
}

/**
 * A predictor for `model` on `backend` (useInferenceBackend) with `threads` threads:
 * ONNX Runtime's operator threads, or tfjs replicas. Takes the model.
 * @param name names the model in errors, e.g. its directory
 */
export function openPredictor(model: UNet, backend: InferenceBackend, threads: number, name: string): Promise<Predictor> {
  if (backend.engine === 'onnxruntime') return openOnnxPredictor(model, backend.onnxruntime, { threads, name, ...(backend.info.adapter && { adapter: backend.info.adapter }) });
  const engine = tfjsEngines[backend.info.engine as TfjsEngineName];
  return Promise.resolve(openTfjsPredictor(model, engine, backend.info, threads, memoryBudget(engine.name, { weightBytes: 4 * model.parameterCount })));
}

/** Training steps for `trainer` on the tfjs engine `info` (useBackend) with `workers` replicas and `tileParts` bands per tile. */
export function openStepRunner(trainer: Trainer, options: TrainerOptions, info: BackendInfo, workers: number, tileParts = 1): Promise<StepRunner> {
  const engine = tfjsEngines[info.engine as TfjsEngineName];
  if (!engine) throw new Error(`backend ${info.engine} runs inference only`);
  const budgetBytes = memoryBudget(engine.name, { weightBytes: 4 * trainer.model.parameterCount });
  return openTfjsStepRunner(trainer, options, engine, info, workers, tileParts, budgetBytes);
}

/**
 * Why a bioimage.io package cannot run on `choice`, or undefined where it can: packages
 * run on ONNX Runtime, the one engine that runs the zoo's onnx weights (tensorflow_js,
 * the format tfjs could run, is not what the zoo ships).
 */
export function packageBackendRefusal(choice: InferenceBackendChoice | undefined): string | undefined {
  return choice === undefined || choice === 'auto' || isOnnxChoice(choice) ? undefined : `a bioimage.io package runs on onnxruntime, not ${choice}`;
}

/**
 * ONNX Runtime for the bioimage.io package at `where`, loaded afresh (a clear error
 * saying how to install it where it cannot load), on the provider `choice` names, or
 * for `auto` and `onnxruntime` the first of auto's order that loads.
 */
export async function usePackageBackend(where: string, choice: InferenceBackendChoice = 'auto'): Promise<Extract<InferenceBackend, { engine: 'onnxruntime' }>> {
  const refusal = packageBackendRefusal(choice);
  if (refusal) throw new Error(`${where}: ${refusal}`);
  const runtime = await loadOnnxRuntime().catch((error: unknown) => {
    const why = error instanceof PackageMissing ? error.reason : (error as Error).message;
    throw new Error(`${where}: running a bioimage.io package needs ONNX Runtime (onnxruntime-node: ${why}); install it with \`ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node\``, { cause: error });
  });
  const skipped: string[] = [];
  const forced = choice.startsWith('onnxruntime-') ? (choice.slice('onnxruntime-'.length) as OnnxProvider) : undefined;
  const opened = forced
    ? await openProvider(runtime, forced, false).catch((error: Error) => {
        throw new Error(`${where}: backend '${choice}' is not available: ${error.message}`, { cause: error });
      })
    : (await firstProvider(runtime, onnxProviders, true, skipped))!;
  const info: BackendInfo = { choice, engine: 'onnxruntime', name: 'onnxruntime', package: onnxRuntime.package, skipped, ...opened };
  return { engine: 'onnxruntime', info, onnxruntime: { ...runtime, provider: opened.provider } };
}

/** One line for a backend report: a missing package's short reason, else the error's first line. */
function skipReason(error: unknown): string {
  if (error instanceof PackageMissing) return error.reason;
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
