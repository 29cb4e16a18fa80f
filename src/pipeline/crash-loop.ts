/**
 * An input that takes the run down (killed for memory, a crash in a native library) would
 * be taken again at every restart, and under a supervisor that restarts the service
 * (systemd's Restart=on-failure) the run would never get past it. The ledger counts the
 * runs that died while processing a content (ledger.ts, `started` notes); at
 * CRASH_LIMIT the file is recorded failed instead of taken again, until it changes.
 */
import { basename, extname } from 'node:path';
import { SampleError } from '../errors.js';
import type { RunEvent } from '../events.js';
import type { SourceRef } from '../sample.js';
import type { Fingerprint, Ledger } from './ledger.js';
import { oneLine, recordFailure } from './outcome.js';
import type { FileSteps } from './process-file.js';

export const CRASH_LIMIT = 2;

/**
 * Records `ref` failed (its report and its ledger entry) when CRASH_LIMIT runs died on
 * this content, and returns the event to emit; undefined when it may be taken.
 */
export async function refuseCrashLoop(
  ledger: Ledger,
  ref: SourceRef,
  fingerprint: Fingerprint,
  steps: FileSteps,
): Promise<Extract<RunEvent, { type: 'file-failed' }> | undefined> {
  const crashes = ledger.crashes(ref.path, fingerprint);
  if (crashes < CRASH_LIMIT) return undefined;
  const failure = new SampleError(
    { file: ref.path },
    `the run stopped while processing it ${crashes} times (killed, out of memory or crashed): not taken again until it changes`,
  );
  const event = await recordFailure(ref, basename(ref.path, extname(ref.path)), [failure], steps.saveTargets, steps.outputDir);
  await ledger.record(ref.path, { ...fingerprint, status: 'failed', outputs: {}, ...(ref.outputStem ? { stem: ref.outputStem } : {}), error: oneLine(failure.message) });
  return event;
}
