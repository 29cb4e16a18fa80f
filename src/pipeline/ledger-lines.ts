/**
 * The ledger's lines, decoded: one JSON object per line, an entry (`done`, `failed`) in
 * the ledger itself, a note that a file is being worked on (`started`) or was given up
 * unfinished by a run that stopped in order (`stopped`) in its in-flight file. A line
 * that does not decode is reported with its number and skipped; the last line, when a
 * power cut tore it mid-append, is told apart so that the file can be mended before
 * anything is appended after it.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { formatIssues, toIssues } from '../codec/report.js';
import { NonNegativeInt, NonNegativeNumber, oneOf } from '../codec/building-blocks.js';

const Outputs = t.record(t.string, t.string, 'output names and their paths');

/** A file's last outcome. Keys it does not know are kept (a newer unetflow may add some). */
export const LedgerEntryCodec = t.intersection([
  t.type({ path: t.string, status: oneOf(['done', 'failed']), size: NonNegativeNumber, mtimeMs: t.number, outputs: Outputs, time: t.string }),
  t.partial({ hash: t.string, error: t.string, sameAs: t.string, stem: t.string, seconds: t.number, objects: t.number }),
]);

/**
 * `started`: a run took the file (this content) up. Not followed by an outcome or by
 * `stopped`, it means that run died while processing it; `crashes` counts the runs
 * that died so before this one took it.
 */
export const ProgressCodec = t.intersection([
  t.type({ path: t.string, status: oneOf(['started', 'stopped']), size: NonNegativeNumber, mtimeMs: t.number, crashes: NonNegativeInt, time: t.string }),
  t.partial({ hash: t.string }),
]);

export type Progress = Readonly<t.TypeOf<typeof ProgressCodec>>;

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

/** Decodes one line with `codec`, saying what is wrong with it when it does not match. */
export function decodeLine<T>(codec: t.Decoder<unknown, T>, text: string): Decoded<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, why: `not JSON (${(error as Error).message})` };
  }
  const decoded = codec.decode(value);
  return isLeft(decoded) ? { ok: false, why: issues(decoded.left) } : { ok: true, value: decoded.right };
}

function issues(errors: t.Errors): string {
  return formatIssues(toIssues(errors)).split('\n').join('; ');
}

export interface ReadLines<T> {
  readonly lines: readonly T[];
  /** Lines that do not decode, by their 1-based number. */
  readonly unreadable: readonly { readonly line: number; readonly why: string; readonly text: string }[];
  /** The file's last line when it has no newline (what a power cut mid-append leaves): where it starts, and whether it decodes. */
  readonly tail?: { readonly line: number; readonly offset: number; readonly bytes: number; readonly readable: boolean };
}

/** Splits and decodes a file of JSON lines (split as bytes: a torn line may end inside a character). */
export function readLines<T>(codec: t.Decoder<unknown, T>, bytes: Uint8Array): ReadLines<T> {
  const lines: T[] = [];
  const unreadable: { line: number; why: string; text: string }[] = [];
  const offset = bytes.lastIndexOf(0x0a) + 1;
  const utf8 = new TextDecoder();
  const whole = utf8.decode(bytes.subarray(0, offset)).split('\n');
  whole.pop(); // after the last newline
  whole.forEach((text, i) => {
    if (!text.trim()) return;
    const line = decodeLine(codec, text);
    if (line.ok) lines.push(line.value);
    else unreadable.push({ line: i + 1, why: line.why, text });
  });
  if (offset === bytes.length) return { lines, unreadable };
  const last = decodeLine(codec, utf8.decode(bytes.subarray(offset)));
  if (last.ok) lines.push(last.value);
  return { lines, unreadable, tail: { line: whole.length + 1, offset, bytes: bytes.length - offset, readable: last.ok } };
}
