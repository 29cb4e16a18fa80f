/** What a watch run says of a file it does not take: one line each, naming the file and why. */
import { messageOf } from '../errors.js';
import { NotAnInputError } from '../io/input-kind.js';
import type { LedgerEntry } from './ledger.js';

/** The ledger could not look at the file: it went, or it is not a regular file (swapped in after the source looked). */
export function uncheckedNote(path: string, error: unknown): string {
  if (error instanceof NotAnInputError) return error.message;
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return `${path}: skipped, it vanished before it could be read; taken again if it comes back`;
  return `${path}: skipped, it cannot be read (${messageOf(error)})`;
}

/** Said once per file and run: a failed file is not retried until it changes, which is easy to wonder about. */
export function failedBeforeNote(path: string, entry: LedgerEntry): string {
  return `${path}: skipped, it failed before and is unchanged${entry.error ? ` (${entry.error})` : ''}: not retried until it changes`;
}
