/**
 * The engines the check runs the shipped model on, each as unetflow's own predictor
 * (the same gather, scatter and chunking as a pipeline's unet step):
 *
 * - `onnxruntime-webgpu`: onnxruntime-node's built-in WebGPU execution provider, driven
 *   here by handing ONNX Runtime's session the provider list `['webgpu']`;
 * - `onnxruntime-cpu`: the same predictor on the CPU provider, the baseline;
 * - `tfjs-webgpu`: tfjs-backend-webgpu on Dawn (`--backend webgpu`).
 *
 * `CLI_BACKEND` is the one place that says which `--backend` the end-to-end stage
 * gives `unetflow run`.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { openPredictor, useInferenceBackend, type BackendInfo, type Predictor } from '../../src/model/engines/choice.js';
import { loadOnnxRuntime, type OnnxRuntime, type OrtSession } from '../../src/model/engines/onnxruntime.js';
import { openOnnxPredictor } from '../../src/model/engines/onnxruntime.js';
import type { UNet } from '../../src/model/network/unet.js';

/** `--backend` of the end-to-end stage: the GPU engine `unetflow run` can be asked for by name. */
export const CLI_BACKEND = 'webgpu';

export const engineNames = ['onnxruntime-webgpu', 'onnxruntime-cpu', 'tfjs-webgpu'] as const;
export type EngineName = (typeof engineNames)[number];

export interface OpenedEngine {
  readonly predictor: Predictor;
  /** What ran: package, provider, adapter where known. */
  readonly described: Record<string, unknown>;
  /** ONNX Runtime's profile of its sessions so far (nodes per provider), where profiling was asked for. */
  readonly profile?: () => Promise<Record<string, number> | undefined>;
}

/** A predictor for `model` (which it takes) on `engine`; `profileDir` turns on ONNX Runtime's profiler there. */
export async function openEngine(engine: EngineName, model: UNet, profileDir?: string): Promise<OpenedEngine> {
  if (engine === 'tfjs-webgpu') {
    const backend = await useInferenceBackend('webgpu');
    const predictor = await openPredictor(model, backend, 1, 'isbi2012-em');
    return { predictor, described: describeTfjs(backend.info, predictor) };
  }
  const provider = engine === 'onnxruntime-webgpu' ? 'webgpu' : 'cpu';
  const runtime = await loadOnnxRuntime();
  const sessions: OrtSession[] = [];
  const withProvider: OnnxRuntime = {
    ...runtime,
    createSession: async (bytes, options) => {
      const session = await runtime.createSession(bytes, {
        ...options,
        executionProviders: [provider],
        ...(profileDir ? { enableProfiling: true, profileFilePrefix: `${profileDir}/ort-${provider}` } : {}),
      } as typeof options);
      sessions.push(session);
      return session;
    },
  };
  const threads = availableParallelism();
  const predictor = await openOnnxPredictor(model, withProvider, { threads, name: 'isbi2012-em' });
  return {
    predictor,
    described: { package: 'onnxruntime-node', version: runtime.version, executionProvider: provider, threads, runs: predictor.description },
    profile: profileDir ? () => providerCounts(sessions, profileDir) : undefined,
  };
}

function describeTfjs(info: BackendInfo, predictor: Predictor): Record<string, unknown> {
  return { package: info.package, backend: info.name, adapter: info.adapter, skipped: info.skipped, runs: predictor.description };
}

/**
 * Nodes per execution provider in ONNX Runtime's profile (each node's `provider`), so
 * that a provider that quietly left nodes to the CPU shows. ONNX Runtime writes each
 * session's profile into `dir` when profiling ends.
 */
async function providerCounts(sessions: OrtSession[], dir: string): Promise<Record<string, number> | undefined> {
  const { readdir, readFile } = await import('node:fs/promises');
  for (const session of sessions) (session as { endProfiling?: () => void }).endProfiling?.();
  const files = (await readdir(dir)).filter((f) => f.startsWith('ort-') && f.endsWith('.json'));
  if (files.length === 0) return undefined;
  const counts: Record<string, number> = {};
  for (const file of files) {
    const events = JSON.parse(await readFile(join(dir, file), 'utf8')) as { cat?: string; name?: string; args?: { provider?: string } }[];
    // One `<node>_kernel_time` event per node and run: count each node once.
    const seen = new Set<string>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.args?.provider || !e.name?.endsWith('_kernel_time') || seen.has(e.name)) continue;
      seen.add(e.name);
      counts[e.args.provider] = (counts[e.args.provider] ?? 0) + 1;
    }
  }
  return counts;
}
