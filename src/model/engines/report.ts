/**
 * How a model step reports where it runs: the `backend` event every model step emits
 * (docs/events.md), and the one line that stderr, the run's summary and the live page
 * show for it. Apart from choice.ts so that reading an event does not load an engine.
 */
import { adapterLine, type RunEvent } from '../../events.js';
import type { BackendInfo } from './engine.js';

type BackendEvent = Extract<RunEvent, { type: 'backend' }>;

/** The `backend` event of model step `step` on `info` with `workers` threads. */
export function backendEvent(step: string, info: BackendInfo, workers: number): BackendEvent {
  return {
    type: 'backend',
    step,
    name: info.name,
    package: info.package,
    workers,
    skipped: info.skipped,
    ...(info.provider && { provider: info.provider }),
    ...(info.adapter && { adapter: info.adapter }),
  };
}

/**
 * A backend event in one line, e.g. `webgpu (@tensorflow/tfjs-backend-webgpu, 1 worker, mesa software adapter (llvmpipe …))`
 * or `onnxruntime (onnxruntime-node, webgpu provider, 1 worker, nvidia ampere adapter (…))`.
 */
export function backendLine(e: Pick<BackendEvent, 'name' | 'package' | 'workers' | 'provider' | 'adapter'>): string {
  const provider = e.provider ? `, ${e.provider} provider` : '';
  return `${e.name} (${e.package}${provider}, ${e.workers} worker${e.workers === 1 ? '' : 's'}${e.adapter ? `, ${adapterLine(e.adapter)}` : ''})`;
}
