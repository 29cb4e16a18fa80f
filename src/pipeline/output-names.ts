/**
 * One output stem per input for a run, so that two inputs never write the same output:
 * `slice.png` and `slice.tif` would both write `slice.mask.png`, and `s.p0.png` would
 * collide with page 0 of a multi-page `s.tif` (`s.p0.mask.png`), `s.z3.t0.png` with a
 * plane of a z/t `s.tif`. The first input to claim a stem keeps the plain one; a later
 * one that would collide adds its extension (`slice.tif.mask.png`), and, should that
 * collide too, a hash of its path. Claims are
 * made in the order files are taken (sorted for folders), and a watch run restores the
 * earlier runs' claims from its ledger, so the names are the same on every run.
 * Comparison ignores case: some file systems do.
 */
import { createHash } from 'node:crypto';
import { extname, relative, resolve } from 'node:path';
import type { SourceRef } from '../sample.js';
import { defaultStem, fitName } from '../io/output-path.js';

// A page's suffix, or a z/t plane's (`.z3.t0`, `.z3`, `.t2`: src/io/tiff-dimensions.ts).
const PAGE = /^(.*?)(?:\.[pzt]\d+)+$/;

export class OutputNames {
  /** Claimed stem, as written and in lower case -> the input path holding it. */
  private readonly holders = new Map<string, string>();
  /** `x` -> the path holding a stem `x.p<n>` (or `x.z<z>.t<t>`): the pages of a multi-page `x` would collide with it. */
  private readonly pagedHolders = new Map<string, string>();
  private readonly stems = new Map<string, string>();

  /** Records a stem an earlier run gave `path` (from the ledger). */
  restore(path: string, stem: string): void {
    const key = fitStem(stem).toLowerCase();
    this.stems.set(resolve(path), stem);
    this.holders.set(key, resolve(path));
    const paged = PAGE.exec(key);
    if (paged) this.pagedHolders.set(paged[1], resolve(path));
  }

  /** The stem of `ref`'s outputs: the same for the same path every time it is asked. */
  claim(ref: SourceRef): string {
    const path = resolve(ref.path);
    const known = this.stems.get(path);
    if (known) return known;
    const candidates = stemCandidates(ref);
    const stem = candidates.find((c) => this.holderOf(c) === undefined) ?? candidates[candidates.length - 1];
    this.restore(path, stem);
    return stem;
  }

  /** Who holds a stem that `stem` would collide with, directly or through a page suffix. */
  holderOf(stem: string): string | undefined {
    const key = fitStem(stem).toLowerCase();
    const paged = PAGE.exec(key);
    return this.holders.get(key) ?? (paged ? this.holders.get(paged[1]) : undefined) ?? this.pagedHolders.get(key);
  }
}

/** The stems `claim` may give an input, in the order it tries them: its name, with its extension, with a hash of its path. */
export function stemCandidates(ref: SourceRef): string[] {
  const path = resolve(ref.path);
  const base = defaultStem(ref);
  const ext = extname(ref.path).slice(1);
  const hash = createHash('sha256').update(ref.root ? relative(resolve(ref.root), path) : path).digest('hex').slice(0, 8);
  return [base, ...(ext ? [`${base}.${ext}`] : []), `${base}.${ext || 'x'}~${hash}`];
}

/** Stems compare as output-path.ts writes them: long names cut alike. */
export function fitStem(stem: string): string {
  const parts = stem.split('/');
  return [...parts.slice(0, -1), fitName(parts[parts.length - 1])].join('/');
}
