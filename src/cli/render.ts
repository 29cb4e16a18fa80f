/**
 * Turning run events into what a person or a program reads. With --json, stdout holds
 * NDJSON only: every event, one per line (docs/events.md). Otherwise stdout shows a
 * progress bar on a terminal for batch runs, a line per file in watch mode or when
 * piped, and the summary. Either way, stderr holds the human-readable lines a person
 * or a service's journal needs: the backend, logs and warnings, failures, hints.
 */
import { isAbsolute, relative } from 'node:path';
import type { RunEvent } from '../events.js';
import { backendLine } from '../model/engines/report.js';
import type { SegmentationMetrics } from '../kernels/metrics/segmentation.js';

/** The metrics a person reads first; --json has them all. */
function showMetrics(m: SegmentationMetrics): string {
  return `pixel error ${m.pixelError.toFixed(4)}, Rand error ${m.randError.toFixed(4)}, warping error ${m.warpingError.toFixed(4)}, IoU ${m.iou.toFixed(4)}`;
}

/** Paths as a person typed them: relative to the working folder when that is shorter; control characters escaped. */
function show(path: string): string {
  if (!isAbsolute(path)) return printable(path);
  const rel = relative(process.cwd(), path);
  return printable(rel.length < path.length ? rel : path);
}

/**
 * Control characters (C0, DEL, C1) and the bidirectional overrides written as escapes
 * (`\n`, `\x1b`, `\u{202e}`): file names come from whoever writes into the watched
 * folder, and an escape sequence in one must not reach the terminal, nor a newline fake
 * a line of the log. `lines` keeps line breaks, for messages made of several lines (a
 * pipeline file's problems, one per line). --json writes names exactly.
 */
export function printable(text: string, lines = false): string {
  return text.replace(lines ? UNPRINTABLE_BUT_NEWLINE : UNPRINTABLE, (c) => {
    const code = c.codePointAt(0)!;
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const UNPRINTABLE_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export interface Renderer {
  event(e: RunEvent): void;
  /** Called once at the end, to leave the terminal tidy. */
  close(): void;
}

interface Streams {
  out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  err: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
}

/** The stderr line for an event, in both modes; undefined for events that have none. */
export function stderrLine(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'backend':
      return `${e.step}: backend ${backendLine(e)}${e.skipped.length ? `; skipped ${e.skipped.join(', ')}` : ''}`;
    case 'log':
      return `${e.level === 'warn' ? 'warning: ' : ''}${printable(e.message)}`;
    case 'file-failed':
      return `FAILED  ${printable(e.message)}${e.failures ? ` (and ${e.failures - 1} more)` : ''}${e.report ? ` (report: ${show(e.report)})` : ''}${e.worker ? ` [${printable(e.worker)}]` : ''}`;
    case 'stats':
      return e.hints?.map((h) => `hint: ${printable(h)}`).join('\n') || undefined;
    case 'run-failed':
      return printable(e.message, true);
    default:
      return undefined;
  }
}

export function jsonRenderer({ out, err }: Streams): Renderer {
  return {
    event(e) {
      out.write(JSON.stringify(e) + '\n');
      const line = stderrLine(e);
      if (line) err.write(line + '\n');
    },
    close() {},
  };
}

export function textRenderer({ out, err }: Streams): Renderer {
  const bar = Boolean(out.isTTY);
  let total: number | undefined;
  let watch = false;
  let done = 0;
  let failed = 0;
  let seconds = 0;
  let barShown = false;
  let lastStepLine = 0;
  const clearBar = () => {
    if (barShown) out.write('\r\x1b[2K');
    barShown = false;
  };
  const drawBar = () => {
    if (!bar || watch || total === undefined) return;
    const n = done + failed;
    const width = 30;
    const filled = total ? Math.round((n / total) * width) : width;
    const rate = n ? ` ${(seconds / n).toFixed(2)} s/file` : '';
    out.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${n}/${total} files${failed ? `, ${failed} failed` : ''}${rate}`);
    barShown = true;
  };
  const line = (stream: Streams['out'], text: string) => {
    clearBar();
    stream.write(text + '\n');
    drawBar();
  };
  return {
    event(e) {
      switch (e.type) {
        case 'started':
          total = e.total;
          watch = e.watch;
          line(err, `${printable(e.pipeline)}: ${e.watch ? 'watching for files' : `${e.total ?? '?'} file(s)`} (${show(e.file)})`);
          break;
        case 'file-done':
          done++;
          seconds += e.seconds;
          if (!bar || watch || e.metrics) {
            const outputs = Object.keys(e.outputs).length ? ' -> ' + Object.values(e.outputs).map(show).join(', ') : '';
            line(out, `done    ${show(e.file)} (${e.seconds.toFixed(2)} s${e.worker ? ` on ${printable(e.worker)}` : ''})${outputs}${e.metrics ? `\n        ${showMetrics(e.metrics)}` : ''}`);
          } else drawBar();
          break;
        case 'file-failed':
          failed++;
          line(err, stderrLine(e)!);
          break;
        case 'train-step':
          // At most one line a second: a step can take milliseconds.
          if (Date.now() - lastStepLine > 1000) {
            lastStepLine = Date.now();
            line(out, `step ${e.step}: loss ${e.loss.toFixed(4)}, lr ${e.learningRate.toPrecision(3)}, ${e.seconds.toFixed(2)} s`);
          }
          break;
        case 'validation':
          line(out, `validation at step ${e.step}: pixel error ${e.pixelError.toFixed(4)}, IoU ${e.iou.toFixed(4)}`);
          break;
        case 'checkpoint':
          line(out, `checkpoint at step ${e.step}: ${show(e.path)}`);
          break;
        case 'backend':
        case 'log':
        case 'run-failed':
          line(err, stderrLine(e)!);
          break;
        case 'stats':
          clearBar();
          out.write(
            `${e.done} done, ${e.failed} failed${e.skipped ? `, ${e.skipped} already done` : ''}${e.unchangedFailed ? `, ${e.unchangedFailed} failed before and unchanged (not retried)` : ''} in ${e.seconds.toFixed(1)} s` +
              (e.done ? ` (${(seconds / e.done).toFixed(2)} s per file)` : '') +
              (e.backend ? `, backend ${e.backend}` : '') +
              '\n' +
              (e.metrics ? `mean: ${showMetrics(e.metrics)}\n` : ''),
          );
          if (e.hints) err.write(stderrLine(e) + '\n');
          break;
      }
    },
    close: clearBar,
  };
}
