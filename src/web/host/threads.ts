/** Threads in a page (src/host/threads.ts): the cores the browser reports; shared memory only when the page is cross-origin isolated. */
import type { Threads } from '../../host/threads.js';

export function browserThreads(scope: { navigator?: { hardwareConcurrency?: number }; crossOriginIsolated?: boolean } = globalThis as never): Threads {
  return { cores: Math.max(1, scope.navigator?.hardwareConcurrency ?? 1), sharedMemory: scope.crossOriginIsolated === true };
}
