/**
 * Decoding what unetflow reads back from disk or Redis. What it wrote itself can still
 * come back otherwise (another version wrote it, or a person edited it): every such value
 * is decoded by a codec, and one that does not match fails with where it was read and
 * what was expected, never as a field found undefined further on.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { formatPath, toIssues } from './report.js';

/**
 * `value` as `codec` decodes it; else throws `<where>: not <what>: <path>: <expected>`.
 * @param where the file and line, or the Redis key and field, it was read from
 * @param what what it should be, with its article: `a ledger entry`
 */
export function decodeStored<A>(codec: t.Decoder<unknown, A>, value: unknown, where: string, what: string): A {
  const result = codec.decode(value);
  if (!isLeft(result)) return result.right;
  const issues = toIssues(result.left).map((i) => (i.path.length ? `${formatPath(i.path)}: ${i.message}` : i.message));
  throw new Error(`${where}: not ${what}: ${issues.join('; ')}`);
}

/** JSON text decoded by `codec`, as decodeStored; text that is not JSON fails the same way. */
export function parseStored<A>(codec: t.Decoder<unknown, A>, text: string, where: string, what: string): A {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: not ${what}: not JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  return decodeStored(codec, value, where, what);
}
