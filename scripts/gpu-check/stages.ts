/**
 * The check's stages. Each runs in its own process (check.ts), so that one that hangs
 * or crashes is killed and recorded and the others still run; each returns a plain
 * object for the JSON, or throws (the error is recorded).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { encodeTiff } from '../../src/io/tiff.js';
import { makeImage } from '../../src/image/image.js';
import { symmetries, type Augmentation } from '../../src/model/inference/augmentation.js';
import { openStepRunner, useBackend } from '../../src/model/engines/choice.js';
import { importOptional } from '../../src/model/engines/optional.js';
import { margin as marginOf, sizeMap, validSizes } from '../../src/model/network/geometry.js';
import { UNet } from '../../src/model/network/unet.js';
import { loadModel } from '../../src/model/store.js';
import { Trainer } from '../../src/model/training/trainer.js';
import { CLI_BACKEND, openEngine, type EngineName, type OpenedEngine } from './engines.js';
import { maxAbsDiff, REFERENCE_SLICE, REFERENCE_SLICE_SIDE, referenceFile, resized, tileAt, tilesCovering, type Grey } from './inputs.js';
import type { Profile } from './profile.js';

export interface StageContext {
  /** The kit's root: app/, model/, ref/. */
  readonly kit: string;
  readonly profile: Profile;
  /** A scratch folder of this stage's own. */
  readonly scratch: string;
}

type Stage = (context: StageContext) => Promise<Record<string, unknown>>;

const modelDir = (kit: string) => join(kit, 'model/isbi2012-em');

async function referenceSlice(kit: string): Promise<Grey> {
  const data = new Uint8Array(await readFile(join(kit, 'ref', REFERENCE_SLICE)));
  return { width: REFERENCE_SLICE_SIDE, height: REFERENCE_SLICE_SIDE, data };
}

/** The median seconds of `repeats` runs, after one untimed run where `warmup`. */
async function median(run: () => Promise<unknown>, repeats: number, warmup: boolean): Promise<{ median: number; all: number[]; warmup?: number }> {
  let t = performance.now();
  const first = warmup ? (await run(), (performance.now() - t) / 1000) : undefined;
  const all: number[] = [];
  for (let r = 0; r < repeats; r++) {
    t = performance.now();
    await run();
    all.push((performance.now() - t) / 1000);
  }
  const sorted = [...all].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], all, warmup: first };
}

/** The smallest tile whose output covers `side` px (outputs of a valid U-Net come in steps of 2^depth). */
export function tileCovering(side: number, config: UNet['config']): { input: number; output: number } {
  const size = validSizes(config, side + 4 * marginOf(config) + 2 ** (config.depth + 2)).find((s) => s.output >= side);
  if (!size) throw new RangeError(`no valid tile covers ${side} px`);
  return size;
}

/** Runs `use` on `engine` with the shipped model, closing the predictor after. */
async function withEngine<T>(kit: string, engine: EngineName, profileDir: string | undefined, use: (opened: OpenedEngine, config: UNet['config']) => Promise<T>): Promise<T> {
  const { model } = await loadModel(modelDir(kit));
  const config = model.config;
  const opened = await openEngine(engine, model, profileDir);
  try {
    return await use(opened, config);
  } finally {
    await opened.predictor.close();
  }
}

function forward(engine: EngineName): Stage {
  return async ({ kit, profile, scratch }) => {
    const size = profile.forwardTile;
    const slice = await referenceSlice(kit);
    const bytes = await readFile(join(kit, 'ref', referenceFile(size)));
    const reference = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    return withEngine(kit, engine, engine.startsWith('onnxruntime') ? scratch : undefined, async (opened, config) => {
      const { output } = sizeMap(size, config);
      const tile = tileAt(slice, 0, 0, size, marginOf(config));
      const t = performance.now();
      const probabilities = await opened.predictor.predict(tile, 1, size, 'none');
      const firstSeconds = (performance.now() - t) / 1000;
      const maxAbsDiffToReference = maxAbsDiff(probabilities, reference);
      return {
        ...opened.described,
        tile: size,
        output,
        values: probabilities.length,
        reference: `ONNX Runtime CPU provider, computed when the kit was built (ref/${referenceFile(size)})`,
        maxAbsDiff: maxAbsDiffToReference,
        withinTolerance: maxAbsDiffToReference <= 1e-4,
        firstRunSeconds: firstSeconds,
        nodesByProvider: await opened.profile?.(),
      };
    });
  };
}

/** Seconds per slice of `profile.sliceSide`² with dihedral TTA, as one tile covering it. */
function slice(engine: EngineName): Stage {
  return async ({ kit, profile }) => {
    const image = resized(await referenceSlice(kit), profile.sliceSide);
    return withEngine(kit, engine, undefined, async (opened, config) => {
      const m = marginOf(config);
      const size = tileCovering(profile.sliceSide, config).input;
      const tta: Augmentation = 'dihedral';
      const tile = tileAt(image, 0, 0, size, m);
      const timing = await median(() => opened.predictor.predict(tile, 1, size, tta), profile.repeats, profile.warmup);
      return { ...opened.described, side: profile.sliceSide, tile: size, tta, passes: symmetries(tta).length, secondsPerSlice: timing.median, slicesPerSecond: 1 / timing.median, repeats: timing.all, warmupSeconds: timing.warmup };
    });
  };
}

/** Seconds per image of `profile.imageSide`², no TTA: as one tile, and as tiles of a slice's size in one batch. */
function image(engine: EngineName): Stage {
  return async ({ kit, profile }) => {
    const picture = resized(await referenceSlice(kit), profile.imageSide);
    return withEngine(kit, engine, undefined, async (opened, config) => {
      const m = marginOf(config);
      const ways: Record<string, unknown> = {};
      const one = tileCovering(profile.imageSide, config);
      const part = tileCovering(profile.sliceSide, config);
      const cases = [
        { name: 'oneTile', size: one.input, output: one.output },
        { name: 'tiles', size: part.input, output: part.output },
      ];
      for (const c of cases) {
        try {
          const { tiles, count } = c.name === 'oneTile' ? { tiles: tileAt(picture, 0, 0, c.size, m), count: 1 } : tilesCovering(picture, c.size, c.output, m);
          const timing = await median(() => opened.predictor.predict(tiles, count, c.size, 'none'), Math.max(1, Math.min(profile.repeats, 3)), profile.warmup);
          ways[c.name] = { tile: c.size, tiles: count, secondsPerImage: timing.median, repeats: timing.all, warmupSeconds: timing.warmup };
        } catch (error) {
          ways[c.name] = { tile: c.size, error: message(error) };
        }
      }
      return { ...opened.described, side: profile.imageSide, tta: 'none', ...ways };
    });
  };
}

/** One training step of a fresh `filters`-filter U-Net on a `profile.trainTile` px tile on tfjs-webgpu. */
function train(index: number): Stage {
  return async ({ profile }) => {
    const filters = profile.trainFilters[index];
    const size = profile.trainTile;
    const info = await useBackend('webgpu');
    const net = UNet.create({ depth: 4, baseFilters: filters, classes: 2, inputChannels: 1, padding: 'valid' }, 1);
    const { output } = sizeMap(size, net.config);
    const options = { optimizer: { kind: 'sgd' as const, learningRate: 1e-3, momentum: 0.99 } };
    const trainer = new Trainer(net, options);
    const runner = await openStepRunner(trainer, options, info, 1, 1);
    try {
      const images = tf.tidy(() => tf.randomUniform([size * size], 0, 1, 'float32', 1).dataSync() as Float32Array);
      const batch = { count: 1, inputSize: size, images, labels: new Int32Array(output * output).fill(1), weights: new Float32Array(output * output).fill(1) };
      let loss = NaN;
      const timing = await median(async () => (loss = (await runner.trainStep(batch)).loss), Math.min(profile.repeats, 3), profile.warmup);
      return {
        package: info.package,
        adapter: info.adapter,
        runs: runner.description,
        filters,
        tile: size,
        output,
        batch: 1,
        optimizer: 'sgd momentum 0.99',
        secondsPerStep: timing.median,
        repeats: timing.all,
        warmupSeconds: timing.warmup,
        loss,
        lossIsFinite: Number.isFinite(loss),
      };
    } finally {
      await runner.close();
      trainer.dispose();
      net.dispose();
    }
  };
}

/**
 * tfjs-node-gpu cannot be in the kit: it needs CUDA 11.2 and cuDNN 8.1 and its own
 * libtensorflow (hundreds of MB), beyond what a call carries. The stage records that,
 * and what loading it here answered.
 */
const nodeGpu: Stage = async () => {
  let answer: string;
  try {
    await importOptional('@tensorflow/tfjs-node-gpu');
    answer = 'loaded (unexpected: the kit does not carry it)';
  } catch (error) {
    answer = message(error);
  }
  return {
    unavailable: true,
    why: 'tfjs-node-gpu is not in the kit: it needs CUDA 11.2 and cuDNN 8.1 (a lent machine has CUDA 13) and a libtensorflow of hundreds of MB, beyond the 64 MiB a call carries',
    loading: answer,
  };
};

/** `unetflow run` (the kit's bundle of the CLI) on a folder of slices, end to end. */
const cli: Stage = async ({ kit, profile, scratch }) => {
  const slices = join(scratch, 'slices');
  await mkdir(slices, { recursive: true });
  const source = await referenceSlice(kit);
  const { side, count } = profile.cliSlices;
  for (let i = 0; i < count; i++) {
    // Each slice a different crop of the reference (mirrored where larger), so that no two files are the same.
    const shifted: Grey = { width: source.width, height: source.height, data: source.data.map((_, k) => source.data[(k + i * 7919) % source.data.length]) };
    const picture = resized(shifted, side);
    await writeFile(join(slices, `${String(i).padStart(2, '0')}.tif`), encodeTiff([makeImage(side, side, 1, 'uint8', picture.data)], 'none'));
  }
  const model = modelDir(kit);
  const geometry = profile.cliTile ? { model, input: profile.cliTile } : { model };
  const pipeline = {
    version: 1,
    name: 'gpu-check',
    source: { files: slices },
    steps: [
      { load: { channels: 1 } },
      { mirror: geometry },
      { tile: geometry },
      { unet: { model, tta: profile.cliTta } },
      { stitch: {} },
      { watershed: { class: 1, at: 0.1, seeds: 0.8, minSeedArea: 50 } },
      { save: { dir: join(scratch, 'out'), outputs: ['mask', 'probabilities'] } },
    ],
  };
  const file = join(scratch, 'pipeline.json');
  await writeFile(file, JSON.stringify(pipeline));
  const args = [join(kit, 'app/main.js'), 'run', file, '--json', '--backend', CLI_BACKEND];
  const t = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const seconds = (performance.now() - t) / 1000;
  const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const backendEvents = events.filter((e) => e.type === 'backend');
  const done = events.filter((e) => e.type === 'file-done').length;
  const failed = events.filter((e) => e.type === 'file-failed').map((e) => e.message);
  const stats = events.filter((e) => e.type === 'stats').at(-1);
  const outputs = existsSync(join(scratch, 'out')) ? (await readdir(join(scratch, 'out'))).length : 0;
  const result = {
    command: `node app/main.js run pipeline.json --json --backend ${CLI_BACKEND}`,
    exitCode: code,
    seconds,
    slices: { count, side },
    backendEvents,
    tile: profile.cliTile ?? 'the model\'s',
    tta: profile.cliTta,
    backendLines: stderr.split('\n').filter((l) => /backend/i.test(l)).slice(0, 10),
    filesDone: done,
    filesFailed: failed,
    outputFiles: outputs,
    stats,
    eventTypes: [...new Set(events.map((e) => String(e.type)))],
    stderrTail: stderr.split('\n').filter((l) => !/artificially reduced/.test(l)).join('\n').slice(-2000),
  };
  if (code !== 0 || done !== count) throw Object.assign(new Error(`unetflow run exited with ${code}, ${done} of ${count} files done`), { result });
  return result;
};

/** The machine: node, CPUs, memory, the GPU as nvidia-smi sees it, the Vulkan loader and drivers. */
const environment: Stage = async () => {
  const run = async (command: string, args: string[]) => {
    try {
      const { stdout } = await promisify(execFile)(command, args, { timeout: 10_000 });
      return stdout.trim();
    } catch (error) {
      return `(${command}: ${message(error)})`;
    }
  };
  const icds = [...new Set([process.env.VK_DRIVER_FILES, process.env.VK_ICD_FILENAMES].filter(Boolean).join(':').split(':').filter(Boolean))].join(':');
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model,
    memoryGiB: totalmem() / 2 ** 30,
    osRelease: existsSync('/etc/os-release') ? (await readFile('/etc/os-release', 'utf8')).match(/PRETTY_NAME="?([^"\n]*)/)?.[1] : undefined,
    nvidiaSmi: await run(existsSync('/usr/local/nvidia/bin/nvidia-smi') ? '/usr/local/nvidia/bin/nvidia-smi' : 'nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']),
    vulkanDriverFiles: icds || undefined,
    vulkanDriverFilesExist: icds ? icds.split(':').map((f) => ({ file: f, exists: existsSync(f) })) : undefined,
    ldLibraryPath: process.env.LD_LIBRARY_PATH,
    loaderOnSystem: (await run('sh', ['-c', 'ldconfig -p | grep libvulkan.so.1 || echo none'])).split('\n')[0],
  };
};

/** The adapters Dawn offers, for each preference it is asked with. */
const adapters: Stage = async () => {
  const dawn = (await importOptional('webgpu')) as { create(options: string[]): { requestAdapter(o?: object): Promise<Adapter | null> } };
  interface Adapter {
    readonly info: Record<string, unknown>;
    readonly features: Iterable<string>;
    readonly limits: Record<string, unknown>;
  }
  const gpu = dawn.create([]);
  const asked: Record<string, unknown> = {};
  for (const [name, options] of Object.entries({ highPerformance: { powerPreference: 'high-performance' }, lowPower: { powerPreference: 'low-power' }, fallback: { forceFallbackAdapter: true } })) {
    try {
      const adapter = await gpu.requestAdapter(options);
      if (!adapter) {
        asked[name] = null;
        continue;
      }
      const info: Record<string, unknown> = {};
      for (const key of ['vendor', 'architecture', 'device', 'description', 'isFallbackAdapter', 'subgroupMinSize', 'subgroupMaxSize']) info[key] = adapter.info[key];
      const limits: Record<string, unknown> = {};
      for (const key of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) limits[key] = adapter.limits[key];
      asked[name] = { info, limits, features: [...adapter.features].sort() };
    } catch (error) {
      asked[name] = { error: message(error) };
    }
  }
  const high = asked.highPerformance as { info?: { isFallbackAdapter?: boolean; architecture?: string } } | null;
  return { ...asked, hardware: !!high?.info && high.info.isFallbackAdapter !== true && high.info.architecture !== 'software' };
};

export const stages: Record<string, Stage> = {
  environment,
  adapters,
  'forward:onnxruntime-webgpu': forward('onnxruntime-webgpu'),
  'forward:tfjs-webgpu': forward('tfjs-webgpu'),
  'slice:onnxruntime-webgpu': slice('onnxruntime-webgpu'),
  'image:onnxruntime-webgpu': image('onnxruntime-webgpu'),
  'train:tfjs-webgpu:f16': train(0),
  'train:tfjs-webgpu:f64': train(1),
  'train:tfjs-node-gpu': nodeGpu,
  cli,
  'slice:tfjs-webgpu': slice('tfjs-webgpu'),
  'image:tfjs-webgpu': image('tfjs-webgpu'),
  'slice:onnxruntime-cpu': slice('onnxruntime-cpu'),
  'image:onnxruntime-cpu': image('onnxruntime-cpu'),
};

/** Runs one stage in this process. */
export async function runStage(name: string, context: StageContext): Promise<Record<string, unknown>> {
  const stage = stages[name];
  if (!stage) throw new Error(`no stage '${name}'; expected one of ${Object.keys(stages).join(', ')}`);
  return stage(context);
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n').slice(0, 6).join('\n') : String(error);
}
