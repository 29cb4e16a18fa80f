/**
 * Where a sample's outputs go: `<dir>/<subfolders>/<stem>[.p<page> | .z<z>.t<t>].<output>.<ext>`,
 * never outside `dir`, whatever the input's name, and never a name longer than the
 * file system takes. A run gives each input its own stem (src/pipeline/output-names.ts)
 * so that two inputs never share outputs; without one, the stem is the input's name.
 */
import { createHash } from 'node:crypto';
import { basename, dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Source } from '../sample.js';
import { NAME_MAX_BYTES, truncateUtf8, utf8Bytes } from './atomic.js';

/** Bytes a stem may take: what is left after the longest suffix, `.p99999.probabilities.tif`, with room to spare. */
export const STEM_MAX = NAME_MAX_BYTES - 40;

/**
 * The input's default stem: its subfolders below the scanned root (recursive sources)
 * and its name without extension, '/'-separated. Anything outside the root is dropped.
 */
export function defaultStem(source: Pick<Source, 'path' | 'root'>): string {
  const stem = basename(source.path, extname(source.path));
  let sub = '';
  if (source.root) {
    const rel = relative(resolve(source.root), resolve(dirname(source.path)));
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) sub = rel.split(sep).join('/');
  }
  return sub ? `${sub}/${stem}` : stem;
}

/**
 * A name cut to `max` UTF-8 bytes when longer: its start, then `~` and 8 hex digits of
 * the whole name's sha256, so that names cut alike stay apart.
 */
export function fitName(name: string, max = STEM_MAX): string {
  if (utf8Bytes(name) <= max) return name;
  const tag = `~${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  return truncateUtf8(name, max - tag.length) + tag;
}

export function outputPath(dir: string, source: Source, output: string, ext: string): string {
  const stem = (source.outputStem ?? defaultStem(source)).split('/');
  const page = source.plane ? `.${source.plane.suffix}` : source.page !== undefined && (source.pages ?? 1) > 1 ? `.p${source.page}` : '';
  const name = `${fitName(stem.pop()!)}${page}.${output}.${ext}`;
  const root = resolve(dir);
  const target = resolve(root, ...stem, name);
  if (target !== root && !target.startsWith(root + sep)) {
    throw new Error(`refusing to write ${target}: outside the output folder ${root}`);
  }
  return target;
}
