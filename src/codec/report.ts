/**
 * Turns io-ts validation errors into short messages with a path
 * (`steps.2.sigma: expected a positive number, got -2`) — PathReporter's
 * messages for unions run to pages.
 */
import * as t from 'io-ts';
import { show } from './building-blocks.js';

export interface Issue {
  /** Keys from the decoded root, e.g. ['steps', 2, 'elastic', 'sigma']. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export function toIssues(errors: t.Errors, root: readonly (string | number)[] = []): Issue[] {
  const seen = new Map<string, Issue>();
  for (const error of errors) {
    const path: (string | number)[] = [...root];
    const ctx = error.context;
    for (let i = 1; i < ctx.length; i++) {
      const parent = ctx[i - 1].type;
      // Members of unions and intersections appear as keys '0', '1', ...: not part of the data's path.
      if (parent instanceof t.UnionType || parent instanceof t.IntersectionType) continue;
      const key = ctx[i].key;
      if (key === '') continue;
      path.push(/^\d+$/.test(key) && parent instanceof t.ArrayType ? Number(key) : key);
    }
    const last = ctx[ctx.length - 1];
    const message = error.message ?? `expected ${describeType(last?.type)}, got ${show(error.value)}`;
    const key = path.join('.');
    // Of several failures at one path (union members), keep the first, which is the most specific.
    if (!seen.has(key) || error.message) seen.set(key, { path, message });
  }
  return dropAncestors([...seen.values()]);
}

/** When a union fails, io-ts reports both the union and its members' inner fields: keep the innermost. */
function dropAncestors(issues: Issue[]): Issue[] {
  return issues.filter(
    (a) => !issues.some((b) => b !== a && b.path.length > a.path.length && a.path.every((k, i) => b.path[i] === k)),
  );
}

function describeType(type: t.Decoder<unknown, unknown> | undefined): string {
  if (!type) return 'a value';
  if (type instanceof t.UnionType) return (type.types as t.Any[]).map(describeType).join(' or ');
  if (type instanceof t.LiteralType) return JSON.stringify(type.value);
  return type.name;
}

export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${k}` : k;
  return out;
}

export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => (i.path.length ? `${formatPath(i.path)}: ${i.message}` : i.message)).join('\n');
}
