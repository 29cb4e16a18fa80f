/**
 * The ledger's rule, the same on every host and for every ledger (a file on disk, a
 * file in a page's output folder, Redis): what a file's size, mtime and content hash
 * say about whether it must be processed, and the entry of a file whose content is that
 * of a done one. No Node module here: the page's ledger (src/web/host/ledger.ts) uses it
 * as the CLI's does.
 */
import type * as t from 'io-ts';
import type { LedgerEntryCodec } from './ledger-lines.js';

export interface Fingerprint {
  readonly size: number;
  readonly mtimeMs: number;
  /** sha256 of the content, hex; computed only when size or mtime differ from the ledger's. */
  readonly hash?: string;
}

/**
 * A file's last outcome (the codec in ledger-lines.ts): path relative to the watched
 * folder ('/'-separated), status, outputs, and for failed files the error. `sameAs` is
 * set when the file was not processed because its content equals that of the done
 * file at that path; `stem` is the stem the run gave its output names (output-names.ts),
 * kept so that a restart gives it again; `seconds` and `objects` (done files) are for
 * the live page.
 */
export type LedgerEntry = Readonly<Omit<t.TypeOf<typeof LedgerEntryCodec>, 'outputs'> & { readonly outputs: Readonly<Record<string, string>> }>;

/**
 * What `check` found. To process: `new` (unknown path and content) or `changed`. To skip:
 * `done` (recorded as done, unchanged), `same-content` (an unknown path whose content
 * equals a done file's, given as `entry`; record it with `recordSameContent`),
 * `failed-before` (recorded as failed, unchanged: not retried until it changes).
 */
export type CheckResult =
  | { readonly process: true; readonly reason: 'new' | 'changed'; readonly fingerprint: Fingerprint }
  | { readonly process: false; readonly reason: 'done' | 'same-content' | 'failed-before'; readonly fingerprint: Fingerprint; readonly entry: LedgerEntry };

/** How a host looks at a file for the rule: its size and mtime (throwing for what is not a file), and its content's sha256 in hex. */
export interface FileLook {
  stat(path: string): Promise<{ readonly size: number; readonly mtimeMs: number }>;
  hash(path: string): Promise<string>;
}

/**
 * `check`'s rule, for any ledger (a file's, the page's, the queue's in Redis): size and mtime
 * unchanged means unchanged; otherwise the content hash decides (a file copied again
 * with the same bytes is not redone). An unknown path is looked up by its hash among the
 * done files (`doneWithHash`): a renamed or copied file is not processed again.
 */
export async function checkFile(
  look: FileLook,
  path: string,
  known: LedgerEntry | undefined,
  doneWithHash: (hash: string, size: number) => LedgerEntry | undefined | Promise<LedgerEntry | undefined>,
): Promise<CheckResult> {
  const s = await look.stat(path);
  const quick = { size: s.size, mtimeMs: s.mtimeMs };
  const unchanged = (entry: LedgerEntry, fingerprint: Fingerprint) =>
    ({ process: false, reason: entry.status === 'done' ? 'done' : 'failed-before', fingerprint, entry }) as const;
  if (known && known.size === s.size && known.mtimeMs === s.mtimeMs) return unchanged(known, { ...quick, hash: known.hash });
  const fingerprint = { ...quick, hash: await look.hash(path) };
  if (known) return known.hash === fingerprint.hash ? unchanged(known, fingerprint) : { process: true, reason: 'changed', fingerprint };
  // Only for an unknown path: a known one whose content changed has outputs of the old content to replace.
  const original = await doneWithHash(fingerprint.hash, s.size);
  if (original) return { process: false, reason: 'same-content', fingerprint, entry: original };
  return { process: true, reason: 'new', fingerprint };
}

/** The entry of a file (`key`) whose content is that of the done `original`: done, with its outputs and `sameAs` naming the first original. */
export function sameContentEntry(key: string, fingerprint: Fingerprint, original: LedgerEntry): Omit<LedgerEntry, 'path' | 'time'> {
  // The first original, unless that is this very path (its own line was deleted to redo it, and a copy's was not).
  const first = original.sameAs && original.sameAs !== key ? original.sameAs : original.path;
  return { ...fingerprint, status: 'done', outputs: original.outputs, sameAs: first };
}

/** A ledger's text with its torn last line mended: completed with its newline when it decodes, else cut off. */
export function mendedText(bytes: Uint8Array, tail: { readonly offset: number; readonly readable: boolean }): string {
  const text = new TextDecoder().decode(tail.readable ? bytes : bytes.subarray(0, tail.offset));
  return tail.readable ? `${text}\n` : text;
}
