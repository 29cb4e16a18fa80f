/**
 * Reading a pipeline file: YAML (or JSON) with every value's line and column kept,
 * `${NAME}` replaced from the environment, and `--set a.b.c=value` overrides applied.
 * Problems are collected, not thrown, so a user sees all of them at once.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { formatPath } from '../codec/report.js';

export interface Problem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** 1-based position in the file, when the value came from it. */
  readonly line?: number;
  readonly column?: number;
}

export interface PipelineDocument {
  /** Path of the file, or a label such as `<inline>`. */
  readonly file: string;
  readonly value: unknown;
  /** Where the value at a path was written, for messages. */
  locate(path: readonly (string | number)[]): { line: number; column: number } | undefined;
}

export interface ReadOptions {
  /** `a.b.c=value` overrides; the value is read as YAML (`seed=3` is a number). */
  readonly set?: readonly string[];
  /** Variables for `${NAME}`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export async function readPipelineFile(file: string, options: ReadOptions = {}) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? 'file not found'
      : code === 'EISDIR' ? 'not a pipeline file: it is a folder (name the .yaml or .json file in it)'
      : String(error);
    return { problems: [{ path: [], message }] as Problem[] };
  }
  return parsePipelineText(text, file, options);
}

export function parsePipelineText(
  text: string,
  file: string,
  options: ReadOptions = {},
): { document?: PipelineDocument; problems: Problem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const positionOf = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length) {
    // After the first syntax error the rest are mostly its echoes.
    const first = doc.errors[0];
    const at = positionOf(first.pos[0]);
    const lineText = text.split('\n')[at.line - 1] ?? '';
    const hint = /\$\{/.test(lineText) && /[{[]/.test(lineText) ? " (inside { } or [ ], quote values that use ${NAME}: \"${NAME}\")" : '';
    return { problems: [{ path: [], message: `YAML syntax: ${first.message.split('\n')[0]}${hint}`, ...at }] };
  }
  const problems: Problem[] = [];

  substituteEnvironment(doc, options.env ?? process.env, problems, positionOf);
  const overridden = new Set<string>();
  for (const assignment of options.set ?? []) applySet(doc, assignment, problems, overridden);

  const locate = (path: readonly (string | number)[]) => {
    if (overridden.has(formatPath(path))) return undefined;
    // A key is reported where the key is written; a missing one where its parent is.
    for (let n = path.length; n >= 0; n--) {
      const parent = n > 0 ? doc.getIn(path.slice(0, n - 1), true) : undefined;
      if (n > 0 && isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(path[n - 1]));
        const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (range) return positionOf(range[0]);
      }
      const node = doc.getIn(path.slice(0, n), true) as YamlNode | undefined;
      const range = node && (node as { range?: [number, number, number] }).range;
      if (range) return positionOf(range[0]);
    }
    return undefined;
  };
  return { document: { file, value: doc.toJS(), locate }, problems };
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function substituteEnvironment(
  doc: Document,
  env: Readonly<Record<string, string | undefined>>,
  problems: Problem[],
  positionOf: (offset: number) => { line: number; column: number },
) {
  const visit = (node: unknown, path: (string | number)[]) => {
    if (isMap(node)) {
      for (const pair of node.items) visit(pair.value, [...path, String(isScalar(pair.key) ? pair.key.value : pair.key)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
      node.value = node.value.replace(VARIABLE, (whole, name: string) => {
        const value = env[name];
        if (value === undefined) {
          problems.push({
            path,
            message: `environment variable ${name} is not set (used as ${whole})`,
            ...(node.range ? positionOf(node.range[0]) : {}),
          });
          return whole;
        }
        return value;
      });
    }
  };
  visit(doc.contents, []);
}

function applySet(doc: Document, assignment: string, problems: Problem[], overridden: Set<string>) {
  const eq = assignment.indexOf('=');
  if (eq <= 0) {
    problems.push({ path: [], message: `--set ${assignment}: expected path=value, e.g. steps.2.save.dir=out` });
    return;
  }
  const path = assignment
    .slice(0, eq)
    .split('.')
    .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  const raw = assignment.slice(eq + 1);
  const parsed = parseDocument(raw);
  const value = parsed.errors.length ? raw : parsed.toJS();
  // Only existing containers can be entered: a typo in the path would otherwise create a new key silently.
  const parentPath = path.slice(0, -1);
  const parent = parentPath.length ? doc.getIn(parentPath, true) : doc.contents;
  if (!isMap(parent) && !isSeq(parent)) {
    const parentName = assignment.slice(0, eq).split('.').slice(0, -1).join('.');
    problems.push({ path: [], message: `--set ${assignment}: ${parentName || 'the file'} is not a map or list in the pipeline` });
    return;
  }
  doc.setIn(path, value);
  overridden.add(formatPath(path));
}
