/**
 * The import graph of src/, operators/ and bin/, read from the import and export
 * statements (type-only ones too: a reader follows them just the same): no module
 * imports itself back through others, and each layer imports only those below it, in
 * the order the README's Architecture section gives.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ROOT = process.cwd();

/**
 * The layers, lowest first. A module may import its own unit's modules and any unit of a
 * lower rank; units of one rank do not import each other.
 */
const LAYERS: readonly { readonly rank: number; readonly unit: readonly string[] }[] = [
  { rank: 0, unit: ['src/codec/'] },
  { rank: 0, unit: ['src/errors.ts'] },
  { rank: 0, unit: ['src/random.ts'] },
  { rank: 1, unit: ['src/image/'] },
  { rank: 2, unit: ['src/kernels/'] },
  // The record that flows through every stream, and the tile permits it carries.
  { rank: 3, unit: ['src/sample.ts', 'src/tile-budget.ts'] },
  { rank: 3, unit: ['src/events.ts'] },
  { rank: 4, unit: ['src/io/'] },
  { rank: 5, unit: ['src/model/'] },
  // What differs between Node and a page (folders, ledger storage, model files, threads): interfaces, and Node's implementations over src/io.
  { rank: 6, unit: ['src/host/'] },
  { rank: 7, unit: ['operators/'] },
  { rank: 8, unit: ['src/pipeline/'] },
  { rank: 9, unit: ['src/queue/'] },
  { rank: 9, unit: ['src/serve/'] },
  // The app page draws a run as the live page does, with the live page's state (src/serve/state.ts); listed first, as the more specific prefix.
  { rank: 10, unit: ['src/web/page/'] },
  // The page: its host implementations, the runner and its Web Worker, the page itself.
  { rank: 9, unit: ['src/web/'] },
  { rank: 10, unit: ['src/cli/'] },
  { rank: 11, unit: ['src/index.ts'] },
  { rank: 12, unit: ['bin/'] },
];

type Graph = ReadonlyMap<string, readonly string[]>;

/** Every module under `dirs` (repository-relative, '/'-separated) and the modules it imports. */
function importGraph(root: string, dirs: readonly string[]): Graph {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|js)$/.test(entry.name) && !path.startsWith('src/serve/assets/')) files.push(path);
    }
  };
  for (const dir of dirs) walk(dir);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => {
        const path = resolve(root, dirname(file), spec);
        const source = path.replace(/\.js$/, '.ts');
        return relative(root, existsSync(source) ? source : path).split('\\').join('/');
      });
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The circles of a graph: its strongly connected components of more than one module, or one that imports itself. */
export function circles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function layerOf(path: string) {
  return LAYERS.find((l) => l.unit.some((prefix) => (prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix)));
}

/** Imports that go up the layers or sideways into another unit of the same rank, as `from -> to`. */
export function upwardImports(graph: Graph): string[] {
  const wrong: string[] = [];
  for (const [from, targets] of graph) {
    const a = layerOf(from);
    for (const to of targets) {
      const b = layerOf(to);
      if (!a || !b || a === b) continue;
      if (b.rank >= a.rank) wrong.push(`${from} -> ${to}`);
    }
  }
  return wrong;
}

test('the checks find a circle and an upward import in a graph made for them', () => {
  const graph = new Map([
    ['src/kernels/a.ts', ['src/kernels/b.ts', 'src/image/image.ts']],
    ['src/kernels/b.ts', ['src/kernels/a.ts', 'src/sample.ts']],
    ['src/image/image.ts', []],
    ['src/sample.ts', ['src/image/image.ts']],
  ]);
  assert.deepEqual(circles(graph), [['src/kernels/a.ts', 'src/kernels/b.ts']]);
  assert.deepEqual(upwardImports(graph), ['src/kernels/b.ts -> src/sample.ts']);
});

test('every module of src, operators and bin belongs to a layer', () => {
  const graph = importGraph(ROOT, ['src', 'operators', 'bin']);
  assert.ok(graph.size > 100, `only ${graph.size} modules found under ${ROOT}`);
  assert.deepEqual([...graph.keys()].filter((path) => !layerOf(path)), []);
});

test('no module imports itself back through others', () => {
  const graph = importGraph(ROOT, ['src', 'operators', 'bin']);
  assert.deepEqual(circles(graph), []);
});

test('each layer imports only the layers below it: kernels nothing above src/image, src/io nothing of the network', () => {
  assert.deepEqual(upwardImports(importGraph(ROOT, ['src', 'operators', 'bin'])), []);
});
