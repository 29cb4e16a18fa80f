/**
 * node:path's POSIX functions for the page bundle (scripts/build-web.ts puts this module
 * where shared code imports node:path). The page's paths are POSIX: the runner places a
 * pipeline at `/pipelines/<name>` and its folders and models below `/`, so the shared
 * code's path arithmetic (a model relative to the pipeline file, an output name) works
 * unchanged; nothing here touches a file.
 */
export const sep = '/';
export const delimiter = ':';

export function isAbsolute(path: string): boolean {
  return path.startsWith('/');
}

export function normalize(path: string): string {
  const absolute = isAbsolute(path);
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length && parts[parts.length - 1] !== '..') parts.pop();
      else if (!absolute) parts.push('..');
    } else parts.push(part);
  }
  const joined = parts.join('/');
  const trailing = path.endsWith('/') && joined ? '/' : '';
  return absolute ? `/${joined}${trailing}` : joined ? joined + trailing : '.';
}

export function join(...paths: string[]): string {
  const joined = paths.filter((p) => p !== '').join('/');
  return joined ? normalize(joined) : '.';
}

/** Resolved against `/` (the page has no working folder). */
export function resolve(...paths: string[]): string {
  let resolved = '';
  for (let i = paths.length - 1; i >= 0 && !isAbsolute(resolved); i--) {
    if (paths[i]) resolved = resolved ? `${paths[i]}/${resolved}` : paths[i];
  }
  const result = normalize(isAbsolute(resolved) ? resolved : `/${resolved}`);
  return result.length > 1 && result.endsWith('/') ? result.slice(0, -1) : result;
}

export function dirname(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : trimmed.slice(0, i);
}

export function basename(path: string, ext?: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return ext && base !== ext && base.endsWith(ext) ? base.slice(0, -ext.length) : base;
}

export function extname(path: string): string {
  const base = basename(path);
  const i = base.lastIndexOf('.');
  return i <= 0 ? '' : base.slice(i);
}

export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => '..'), ...b.slice(common)].join('/');
}

export function parse(path: string): { root: string; dir: string; base: string; ext: string; name: string } {
  const base = basename(path);
  const ext = extname(path);
  return { root: isAbsolute(path) ? '/' : '', dir: dirname(path), base, ext, name: ext ? base.slice(0, -ext.length) : base };
}

export function format(p: { dir?: string; root?: string; base?: string; name?: string; ext?: string }): string {
  const base = p.base ?? `${p.name ?? ''}${p.ext ?? ''}`;
  const dir = p.dir ?? p.root ?? '';
  return dir ? (dir.endsWith('/') ? dir + base : `${dir}/${base}`) : base;
}

export function toNamespacedPath(path: string): string {
  return path;
}

const posix = { sep, delimiter, isAbsolute, normalize, join, resolve, dirname, basename, extname, relative, parse, format, toNamespacedPath };
export { posix };
export default { ...posix, posix };
