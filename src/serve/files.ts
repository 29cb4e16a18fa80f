/**
 * Which files the live page may serve: only regular files inside the run's output
 * folders that the run itself names (its outputs and error reports, `allowed`), named in
 * URLs as `<root index>/<path below it>`. Anything else (another file in the folder, such
 * as a pipeline file or an input kept beside the outputs, `..`, an encoded `..`, a
 * backslash, a dot-file such as the ledger's lock, a symbolic link that leads out of the
 * folder, a folder) is simply not found: the server answers 404 and says no more.
 */
import { realpath, stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';

export interface ServedFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export class ServedFolders {
  /** The folders as given, resolved; their real paths are looked up on first use (a watch run may create them later). */
  readonly roots: readonly string[];

  /**
   * @param allowed whether a file inside a root (its absolute path, as the run names it,
   *   links not followed) is one the run wrote; the live server lets through only the
   *   paths its rows name. @default every file
   */
  constructor(roots: readonly string[], private readonly allowed: (path: string) => boolean = () => true) {
    this.roots = [...new Set(roots.map((r) => resolve(r)))];
  }

  /** The URL path (`<root>/<rel>`, each segment encoded) of a file inside a root, or undefined for anything outside. */
  urlPath(path: string): string | undefined {
    const full = resolve(path);
    for (let i = 0; i < this.roots.length; i++) {
      const rel = relative(this.roots[i], full);
      if (!rel || rel.startsWith('..') || resolve(this.roots[i], rel) !== full) continue;
      return [String(i), ...rel.split(sep).map(encodeURIComponent)].join('/');
    }
    return undefined;
  }

  /**
   * The file a URL path names, when it may be served; undefined otherwise. `encoded` is
   * the path as it came in the request, after the route's prefix, still percent-encoded.
   */
  async resolve(encoded: string): Promise<ServedFile | undefined> {
    const [index, ...rawSegments] = encoded.split('/');
    const root = /^\d+$/.test(index) ? this.roots[Number(index)] : undefined;
    if (!root || rawSegments.length === 0) return undefined;
    const segments: string[] = [];
    for (const raw of rawSegments) {
      let segment: string;
      try {
        segment = decodeURIComponent(raw);
      } catch {
        return undefined;
      }
      // Decoded, a segment must still be one plain name: no separators, no `..`, no hidden files.
      if (!segment || segment.startsWith('.') || /[/\\\0]/.test(segment)) return undefined;
      segments.push(segment);
    }
    const candidate = resolve(root, ...segments);
    if (!candidate.startsWith(root + sep) || !this.allowed(candidate)) return undefined;
    try {
      // Symbolic links are followed only when they stay inside the folder's real path.
      const [realRoot, real] = await Promise.all([realpath(root), realpath(candidate)]);
      if (!real.startsWith(realRoot + sep)) return undefined;
      const s = await stat(real);
      if (!s.isFile()) return undefined;
      return { path: real, size: s.size, mtimeMs: s.mtimeMs };
    } catch {
      return undefined;
    }
  }
}

/** Content types of what a run writes; anything else goes out as bytes to download. */
export function contentType(path: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return (
    {
      png: 'image/png',
      jpg: 'image/jpeg',
      jpeg: 'image/jpeg',
      tif: 'image/tiff',
      tiff: 'image/tiff',
      csv: 'text/csv; charset=utf-8',
      json: 'application/json; charset=utf-8',
      webp: 'image/webp',
    }[ext] ?? 'application/octet-stream'
  );
}
