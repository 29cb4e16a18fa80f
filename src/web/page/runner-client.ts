/// <reference lib="dom" />
/**
 * The page's side of the runner's Web Worker (worker.js of the build): requests go as
 * messages, events come back as they happen. Directory handles are structured-cloneable,
 * so the worker reads and writes the folders itself and no pixel crosses to this thread.
 */
import type { RunEvent } from '../../events.js';
import type { JobRequest, JobRunner, Validation } from './job.js';

type FromWorker =
  | { type: 'validation'; id: number; result: Validation }
  | { type: 'event'; id: number; event: RunEvent }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; message: string };

export function createRunner(url = new URL('worker.js', document.baseURI)): JobRunner {
  const worker = new Worker(url, { type: 'module', name: 'unetflow' });
  let next = 0;
  const waiting = new Map<number, (m: FromWorker) => void>();
  worker.addEventListener('message', (e: MessageEvent<FromWorker>) => waiting.get(e.data.id)?.(e.data));
  /** Why the worker cannot work (its script did not load), once it has said so: later requests end at once. */
  let broken: string | undefined;
  worker.addEventListener('error', (e) => {
    broken = `the app's worker failed: ${e.message || 'it did not load'}`;
    for (const [id, handle] of waiting) handle({ type: 'error', id, message: broken });
  });
  const post = (id: number, message: object) => {
    if (broken) waiting.get(id)?.({ type: 'error', id, message: broken });
    else worker.postMessage(message);
  };

  return {
    validate(pipeline) {
      const id = ++next;
      return new Promise<Validation>((resolve) => {
        waiting.set(id, (m) => {
          waiting.delete(id);
          resolve(m.type === 'validation' ? m.result : { valid: false, message: m.type === 'error' ? m.message : 'no answer from the worker' });
        });
        post(id, { type: 'validate', id, name: pipeline.name, text: pipeline.text });
      });
    },
    run(request: JobRequest, onEvent) {
      const id = ++next;
      return new Promise<void>((resolve, reject) => {
        const stop = () => worker.postMessage({ type: 'stop', id });
        request.signal.addEventListener('abort', stop, { once: true });
        waiting.set(id, (m) => {
          if (m.type === 'event') return onEvent(m.event);
          waiting.delete(id);
          request.signal.removeEventListener('abort', stop);
          if (m.type === 'error') reject(new Error(m.message));
          else resolve();
        });
        const { pipeline, input, output, engine } = request;
        post(id, { type: 'run', id, name: pipeline.name, text: pipeline.text, input, output, engine });
      });
    },
  };
}
