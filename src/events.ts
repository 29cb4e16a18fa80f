/**
 * The second stream of a run: typed events that the CLI renders (progress on a TTY,
 * NDJSON with --json) and that code can subscribe to. Every event is plain JSON.
 */

export type RunEvent =
  | { type: 'started'; pipeline: string; file: string; time: string; watch: boolean; total?: number }
  | { type: 'file-done'; id: string; file: string; seconds: number; outputs: Record<string, string> }
  | { type: 'file-failed'; id?: string; file?: string; step?: string; message: string; report?: string }
  | { type: 'train-step'; step: number; loss: number; learningRate: number; seconds: number }
  | { type: 'validation'; step: number; pixelError: number; iou: number; loss?: number }
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'stats'; done: number; failed: number; skipped: number; seconds: number; backend?: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

export type EventType = RunEvent['type'];
