/**
 * The engines the check runs the shipped model on, each through unetflow's own backend
 * choice and predictor (the same chunking, gather and scatter as a pipeline's unet step):
 *
 * - `onnxruntime-webgpu`: onnxruntime-node's built-in WebGPU execution provider;
 * - `onnxruntime-cpu`: its CPU provider, the same-machine baseline;
 * - `tfjs-webgpu`: tfjs-backend-webgpu on Dawn (`--backend webgpu`).
 *
 * `CLI_BACKEND` is the one place that says which `--backend` the end-to-end stage
 * gives `unetflow run`.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { openPredictor, useInferenceBackend, type BackendInfo, type InferenceBackend, type InferenceBackendChoice, type Predictor } from '../../src/model/engines/choice.js';
import type { OrtSession } from '../../src/model/engines/onnxruntime.js';
import type { UNet } from '../../src/model/network/unet.js';

/** `--backend` of the end-to-end stage. */
export const CLI_BACKEND: InferenceBackendChoice = 'onnxruntime-webgpu';

export const engineNames = ['onnxruntime-webgpu', 'onnxruntime-cpu', 'tfjs-webgpu'] as const;
export type EngineName = (typeof engineNames)[number];

const choices: Record<EngineName, InferenceBackendChoice> = { 'onnxruntime-webgpu': 'onnxruntime-webgpu', 'onnxruntime-cpu': 'onnxruntime-cpu', 'tfjs-webgpu': 'webgpu' };

export interface OpenedEngine {
  readonly predictor: Predictor;
  /** What ran: package, provider, adapter where known. */
  readonly described: Record<string, unknown>;
  /** ONNX Runtime's profile of its sessions so far (nodes per provider), where profiling was asked for. */
  readonly profile?: () => Promise<Record<string, number> | undefined>;
}

/** A predictor for `model` (which it takes) on `engine`; `profileDir` turns on ONNX Runtime's profiler there. */
export async function openEngine(engine: EngineName, model: UNet, profileDir?: string): Promise<OpenedEngine> {
  let backend: InferenceBackend = await useInferenceBackend(choices[engine]);
  if (backend.engine === 'tfjs') {
    const predictor = await openPredictor(model, backend, 1, 'isbi2012-em');
    return { predictor, described: describe(backend.info, predictor) };
  }
  const sessions: OrtSession[] = [];
  if (profileDir) {
    const runtime = backend.onnxruntime;
    backend = {
      ...backend,
      onnxruntime: {
        ...runtime,
        createSession: async (bytes, options) => {
          const session = await runtime.createSession(bytes, { ...options, enableProfiling: true, profileFilePrefix: join(profileDir, 'ort') } as typeof options);
          sessions.push(session);
          return session;
        },
      },
    };
  }
  const threads = availableParallelism();
  const predictor = await openPredictor(model, backend, threads, 'isbi2012-em');
  return {
    predictor,
    described: { ...describe(backend.info, predictor), version: backend.onnxruntime.version, threads },
    profile: profileDir ? () => providerCounts(sessions, profileDir) : undefined,
  };
}

function describe(info: BackendInfo, predictor: Predictor): Record<string, unknown> {
  return { package: info.package, backend: info.name, provider: info.provider, adapter: info.adapter, skipped: info.skipped, runs: predictor.description };
}

/**
 * Nodes per execution provider in ONNX Runtime's profile (each node's `provider`), so
 * that a provider that quietly left nodes to the CPU shows. ONNX Runtime writes each
 * session's profile into `dir` when profiling ends.
 */
async function providerCounts(sessions: OrtSession[], dir: string): Promise<Record<string, number> | undefined> {
  const { readdir, readFile } = await import('node:fs/promises');
  for (const session of sessions) (session as { endProfiling?: () => void }).endProfiling?.();
  const files = (await readdir(dir)).filter((f) => f.startsWith('ort_') && f.endsWith('.json'));
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
