/**
 * io-ts building blocks for parameter codecs. `t.exact` only strips unknown keys;
 * a typo in a pipeline file must be an error with a did-you-mean, so `closedObject`
 * checks keys itself (named so as not to read as io-ts's `t.strict`, which strips them too).
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';

/** A closed object's codec, with its properties kept for whoever documents them. */
export type ClosedObjectType<R extends t.Props, O extends t.Props> = t.Type<t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<O>>, unknown, unknown> & {
  readonly required: R;
  readonly optional: O;
};

/** An object with required and optional properties and no others: an unknown key is an error with a did-you-mean, where io-ts's t.strict and t.exact would drop it. */
export function closedObject<R extends t.Props, O extends t.Props>(name: string, required: R, optional: O): ClosedObjectType<R, O> {
  const inner = t.intersection([t.type(required), t.partial(optional)]);
  const known = [...Object.keys(required), ...Object.keys(optional)];
  const codec = new t.Type(
    name,
    (u): u is t.TypeOf<typeof inner> => inner.is(u),
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) {
        return t.failure(u, c, `expected an object with ${known.length ? known.join(', ') : 'no keys'}, got ${show(u)}`);
      }
      const unknown = Object.keys(u).filter((k) => !known.includes(k));
      // The intersection goes into the context so that reporters can skip its member indices.
      const checked = inner.validate(u, t.appendContext(c, '', inner));
      if (unknown.length === 0) return checked;
      // Unknown keys and the known keys' own problems together: a user sees every mistake at once.
      return t.failures([
        ...unknown.map((k) => ({
          value: (u as Record<string, unknown>)[k],
          context: [...c, { key: k, type: t.unknown, actual: (u as Record<string, unknown>)[k] }],
          message: unknownKeyMessage(k, known),
        })),
        ...(isLeft(checked) ? checked.left : []),
      ]);
    },
    (a) => inner.encode(a),
  );
  return Object.assign(codec, { required, optional });
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const guess = didYouMean(key, known);
  return `unknown key '${key}'` + (guess ? ` — did you mean '${guess}'?` : known.length ? ` (expected one of: ${known.join(', ')})` : '');
}

/** The closest name within edit distance 2 (or a case-insensitive match). */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

export function show(u: unknown): string {
  if (u === undefined) return 'nothing';
  const s = JSON.stringify(u);
  return s === undefined ? String(u) : s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/** A refinement with a readable expectation, reported as `expected <description>`. */
export function refine<C extends t.Any>(codec: C, predicate: (a: t.TypeOf<C>) => boolean, description: string) {
  return new t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown>(
    description,
    (u): u is t.TypeOf<C> => codec.is(u) && predicate(u),
    (u, c) => {
      const r = codec.validate(u, c);
      if (isLeft(r)) return t.failure(u, c, `expected ${description}, got ${show(u)}`);
      return predicate(r.right) ? r : t.failure(u, c, `expected ${description}, got ${show(u)}`);
    },
    codec.encode,
  );
}

export const PositiveInt = refine(t.number, (n) => Number.isInteger(n) && n > 0, 'a positive integer');
export const NonNegativeInt = refine(t.number, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
export const PositiveNumber = refine(t.number, (n) => Number.isFinite(n) && n > 0, 'a positive number');
export const NonNegativeNumber = refine(t.number, (n) => Number.isFinite(n) && n >= 0, 'a non-negative number');
export const Probability = refine(t.number, (n) => n >= 0 && n <= 1, 'a number from 0 to 1');

/** A string enum reported as `expected 'a' | 'b'`. */
export function oneOf<const V extends readonly [string, ...string[]]>(values: V) {
  const description = values.map((v) => `'${v}'`).join(' | ');
  return refine(t.string, (s): boolean => (values as readonly string[]).includes(s), description) as unknown as t.Type<
    V[number],
    V[number],
    unknown
  >;
}

/**
 * An object with exactly one of several keys, each with its own codec
 * (`{ files: ... }`, `{ pairs: ... }`, `{ watch: ... }`). Unlike a union, errors come
 * from the member the user meant, not from every member at once.
 */
export function oneKeyOf<M extends Record<string, t.Any>>(name: string, members: M) {
  const keys = Object.keys(members);
  type Out = { [K in keyof M]: { [P in K]: t.TypeOf<M[K]> } }[keyof M];
  return new t.Type<Out, unknown, unknown>(
    name,
    (u): u is Out => typeof u === 'object' && u !== null && Object.keys(u).length === 1 && keys.includes(Object.keys(u)[0]) && members[Object.keys(u)[0]].is((u as Record<string, unknown>)[Object.keys(u)[0]]),
    (u, c) => {
      const expected = `expected one of ${keys.join(', ')}`;
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `${expected}, got ${show(u)}`);
      const present = Object.keys(u);
      const known = present.filter((k) => keys.includes(k));
      if (known.length === 1 && present.length === 1) {
        const k = known[0];
        const r = members[k].validate((u as Record<string, unknown>)[k], t.appendContext(c, k, members[k], (u as Record<string, unknown>)[k]));
        return isLeft(r) ? r : t.success({ [k]: r.right } as Out);
      }
      if (known.length > 1) return t.failure(u, c, `only one of ${known.join(', ')} can be given`);
      const unknown = present.filter((k) => !keys.includes(k));
      if (unknown.length) {
        return t.failures(unknown.map((k) => ({ value: (u as Record<string, unknown>)[k], context: [...c, { key: k, type: t.unknown, actual: (u as Record<string, unknown>)[k] }], message: unknownKeyMessage(k, keys) })));
      }
      return t.failure(u, c, `${expected}, got ${show(u)}`);
    },
    t.identity,
  );
}

/** A string, or an object for the longer form (`files: in` or `files: { dir: in, recursive: true }`). */
export function stringOr<C extends t.Any>(object: C, description: string) {
  return new t.Type<string | t.TypeOf<C>, unknown, unknown>(
    `${description}`,
    (u): u is string | t.TypeOf<C> => (typeof u === 'string' && u.length > 0) || object.is(u),
    (u, c) => {
      if (typeof u === 'string') return u.length > 0 ? t.success(u) : t.failure(u, c, `expected ${description}, got an empty string`);
      if (typeof u === 'object' && u !== null && !Array.isArray(u)) return object.validate(u, c);
      return t.failure(u, c, `expected ${description}, got ${show(u)}`);
    },
    t.identity,
  );
}
