/**
 * Where a sample's outputs go: `<dir>/<subfolders>/<stem>[.p<page>].<output>.<ext>`,
 * and never outside `dir`, whatever the input's name.
 */
import { basename, dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Source } from '../sample.js';

export function outputPath(dir: string, source: Source, output: string, ext: string): string {
  const stem = basename(source.path, extname(source.path));
  const page = source.page !== undefined && (source.pages ?? 1) > 1 ? `.p${source.page}` : '';
  // Keep the input's subfolders below the scanned root (recursive watch folders); drop anything else.
  let sub = '';
  if (source.root) {
    const rel = relative(resolve(source.root), resolve(dirname(source.path)));
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) sub = rel;
  }
  const root = resolve(dir);
  const target = resolve(root, sub, `${stem}${page}.${output}.${ext}`);
  if (target !== root && !target.startsWith(root + sep)) {
    throw new Error(`refusing to write ${target}: outside the output folder ${root}`);
  }
  return target;
}

