/**
 * The second stream of a run: typed events that the CLI renders (NDJSON on stdout with
 * --json, progress and lines otherwise) and that code can subscribe to. Every event is
 * plain JSON. The codecs below are the single source of truth for the event types and
 * their fields: docs/events.md documents them and a test holds the two together.
 */
import * as t from 'io-ts';
import { metricNames, type SegmentationMetrics } from './kernels/metrics/segmentation.js';
import { closedObject } from './codec/building-blocks.js';

const Metrics = closedObject('metrics', Object.fromEntries(metricNames.map((n) => [n, t.number])) as Record<(typeof metricNames)[number], t.NumberC>, {});
const Level = t.union([t.literal('info'), t.literal('warn')]);
const type = <N extends string>(name: N) => ({ type: t.literal(name) });

/** Every event, by type. `metrics` (from an `evaluate` step): per file, the mean over its pages; in `stats`, the mean over files. */
export const eventCodecs = {
  /** The first event of every run that starts. */
  started: closedObject('started', { ...type('started'), pipeline: t.string, file: t.string, time: t.string, watch: t.boolean }, { total: t.number }),
  /**
   * A model step chose where it runs; `skipped` says why each preferred backend was passed
   * over; `provider` is ONNX Runtime's execution provider (`webgpu`, `cuda`, `cpu`);
   * `adapter` is the GPU that WebGPU runs on (`software`: a CPU driver such as lavapipe).
   */
  backend: closedObject(
    'backend',
    { ...type('backend'), step: t.string, name: t.string, package: t.string, workers: t.number, skipped: t.readonlyArray(t.string) },
    {
      provider: t.string,
      adapter: closedObject('adapter', { vendor: t.string, architecture: t.string, description: t.string, software: t.boolean }, { maxBufferSize: t.number, maxStorageBufferBindingSize: t.number }),
    },
  ),
  /** Something a person should know (`warn`) or may like to (`info`); `file` when it is about one input. */
  log: closedObject('log', { ...type('log'), level: Level, message: t.string }, { file: t.string }),
  'file-done': closedObject(
    'file-done',
    { ...type('file-done'), id: t.string, file: t.string, seconds: t.number, outputs: t.record(t.string, t.string) },
    { metrics: Metrics, objects: t.number, worker: t.string },
  ),
  /**
   * One per failed input file: its first failure; `failures` counts them when there were several (all are in `report`).
   * `worker` (file-done too): through a queue, the worker's `host:pid`.
   */
  'file-failed': closedObject('file-failed', { ...type('file-failed'), message: t.string }, { id: t.string, file: t.string, step: t.string, report: t.string, failures: t.number, worker: t.string }),
  'train-step': closedObject('train-step', { ...type('train-step'), step: t.number, loss: t.number, learningRate: t.number, seconds: t.number }, {}),
  validation: closedObject('validation', { ...type('validation'), step: t.number, pixelError: t.number, iou: t.number }, { loss: t.number, objectF1: t.number }),
  checkpoint: closedObject('checkpoint', { ...type('checkpoint'), step: t.number, path: t.string }, {}),
  /**
   * The last event of a run that completes (also when stopped by a signal). `skipped`:
   * inputs already done (the same file, or the same content under another name);
   * `unchangedFailed`: inputs that failed before and have not changed, so are not retried.
   * `hints`: what would make the next run better (a faster backend that is missing).
   */
  stats: closedObject(
    'stats',
    { ...type('stats'), done: t.number, failed: t.number, skipped: t.number, unchangedFailed: t.number, seconds: t.number },
    { backend: t.string, metrics: Metrics, hints: t.readonlyArray(t.string) },
  ),
  /** The last event of a run that ends on an error (a pipeline that cannot run, or `on-error: stop`); `exitCode` is the CLI's. */
  'run-failed': closedObject('run-failed', { ...type('run-failed'), message: t.string, exitCode: t.number }, {}),
};

/** A backend event's GPU adapter in one line, e.g. `mesa software adapter (llvmpipe: Mesa 25.0.7 …)`. */
export function adapterLine(a: t.TypeOf<typeof eventCodecs.backend.optional.adapter>): string {
  const software = a.software && a.architecture !== 'software' ? ' (software)' : '';
  return `${a.vendor} ${a.architecture} adapter${software} (${a.description})`;
}

export type EventType = keyof typeof eventCodecs;
export const eventTypes = Object.keys(eventCodecs) as EventType[];

type Decoded = { [K in EventType]: t.TypeOf<(typeof eventCodecs)[K]> }[EventType];
/** The metrics are named by their own interface rather than the codec's structural copy. */
export type RunEvent = Decoded extends infer E ? (E extends { metrics?: unknown } ? Omit<E, 'metrics'> & { metrics?: SegmentationMetrics } : E) : never;

/** Checks a value against the codec of its type: undefined when it is a valid event, else why not. */
export function eventProblem(value: unknown): string | undefined {
  const kind = (value as { type?: unknown } | null)?.type;
  if (typeof kind !== 'string' || !(kind in eventCodecs)) return `unknown event type ${JSON.stringify(kind)}`;
  const result = eventCodecs[kind as EventType].decode(value);
  if (result._tag === 'Right') return undefined;
  return result.left.map((e) => `${e.context.map((c) => c.key).filter(Boolean).join('.')}: ${e.message ?? 'invalid'}`).join('; ');
}
