/**
 * The second stream of a run: typed events that the CLI renders (progress on a TTY,
 * NDJSON with --json) and that code can subscribe to. Every event is plain JSON.
 */

import type { SegmentationMetrics } from './kernels/metrics/segmentation.js';

/** `metrics` (from an `evaluate` step): per file, the mean over its pages; in `stats`, the mean over files. */
export type RunEvent =
  | { type: 'started'; pipeline: string; file: string; time: string; watch: boolean; total?: number }
  | { type: 'file-done'; id: string; file: string; seconds: number; outputs: Record<string, string>; metrics?: SegmentationMetrics }
  | { type: 'file-failed'; id?: string; file?: string; step?: string; message: string; report?: string }
  | { type: 'train-step'; step: number; loss: number; learningRate: number; seconds: number }
  | { type: 'validation'; step: number; pixelError: number; iou: number; loss?: number }
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'stats'; done: number; failed: number; skipped: number; seconds: number; backend?: string; metrics?: SegmentationMetrics }
  | { type: 'backend'; step: string; name: string; package: string; workers: number; skipped: readonly string[] }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

export type EventType = RunEvent['type'];
