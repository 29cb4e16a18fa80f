/**
 * What a run leaves behind for each input once its steps are over: for a failure, one
 * `file-failed` event, `<name>.error.json` with every failure in full, and none of the
 * file's outputs (a changed file that now fails loses the outputs of its old version
 * too: they no longer describe it); for a success, its outputs and no stale report.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SampleError } from '../errors.js';
import type { RunEvent } from '../events.js';
import { writeFileAtomic } from '../io/atomic.js';
import { outputPath } from '../io/output-path.js';
import { mayWrite } from '../io/write-guard.js';
import type { SourceRef } from '../sample.js';

/** The error report's path for an input, beside its outputs. */
export function reportPath(outputDir: string, ref: SourceRef): string {
  return outputPath(outputDir, ref, 'error', 'json');
}

/** A message on one line, for terminals and NDJSON consumers; the report keeps the rest. */
export function oneLine(message: string, max = 400): string {
  const line = message.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
  return line.length > max ? `${line.slice(0, max - 1)}… (see the error report)` : line;
}

/** A `save` step's folder and outputs. */
export interface SaveTarget {
  readonly dir: string;
  readonly outputs: readonly string[];
}

/**
 * Removes every output `targets` hold for this input, of any page and format: what this
 * attempt wrote and what an earlier version of the file left. The run's output names
 * (output-names.ts) give each input a stem no other input's outputs can match.
 */
export async function removeOutputs(ref: SourceRef, targets: readonly SaveTarget[]): Promise<void> {
  for (const { dir, outputs } of targets) {
    const probe = outputPath(dir, ref, 'o', 'x');
    const stem = basename(probe).slice(0, -'.o.x'.length);
    const mine = new RegExp(`^${escape(stem)}(\\.p\\d+)?\\.(${outputs.map(escape).join('|')})\\.(png|tif|jpg|csv)$`);
    const names = (await readdir(dirname(probe)).catch(() => [] as string[])).filter((n) => mine.test(n));
    for (const n of names) await mayWrite(join(dirname(probe), n));
    await Promise.all(names.map((n) => rm(join(dirname(probe), n), { force: true })));
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Records a failed input: removes its outputs (see removeOutputs), writes the report
 * when there is an output folder, and returns the event.
 */
export async function recordFailure(
  ref: SourceRef,
  id: string,
  failures: readonly SampleError[],
  targets: readonly SaveTarget[],
  outputDir: string | undefined,
): Promise<Extract<RunEvent, { type: 'file-failed' }>> {
  await removeOutputs(ref, targets);
  const report = outputDir ? reportPath(outputDir, ref) : undefined;
  if (report) {
    const text = JSON.stringify({ file: ref.path, time: new Date().toISOString(), errors: failures.map((f) => f.toJSON()) }, null, 2) + '\n';
    await writeFileAtomic(report, text);
  }
  const [first] = failures;
  return {
    type: 'file-failed',
    id: first.sample ?? id,
    file: ref.path,
    ...(first.step ? { step: first.step } : {}),
    message: oneLine(first.message),
    ...(report ? { report } : {}),
    ...(failures.length > 1 ? { failures: failures.length } : {}),
  };
}

/** After a success: a report left by an earlier failure of the same input no longer applies. */
export async function clearFailure(ref: SourceRef, outputDir: string | undefined): Promise<void> {
  if (!outputDir) return;
  const report = reportPath(outputDir, ref);
  if (!(await stat(report).catch(() => undefined))) return;
  await mayWrite(report);
  await rm(report, { force: true });
}
