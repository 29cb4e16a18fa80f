/** Listing image folders (or one file), in sorted order: the `files` and `pairs` sources, and `train`'s validation set. */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { SourceRef } from '../sample.js';
import { globToRegExp, IMAGE_PATTERN, isGlob, isTemporaryName } from './glob.js';

export interface FolderQuery {
  readonly dir: string;
  readonly pattern?: string;
  readonly recursive?: boolean;
}

/** `DIR`, `DIR/*.tif` or `{ dir, pattern, recursive }`, resolved against the pipeline's folder. */
export function folderQuery(spec: string | FolderQuery, baseDir: string): FolderQuery {
  if (typeof spec !== 'string') return { ...spec, dir: resolve(baseDir, spec.dir) };
  if (!isGlob(spec)) return { dir: resolve(baseDir, spec) };
  // Split at the first folder that has a glob character: `data/**/*.png` -> data + **/*.png.
  const parts = spec.split('/');
  const firstGlob = parts.findIndex(isGlob);
  const pattern = parts.slice(firstGlob).join('/');
  return { dir: resolve(baseDir, parts.slice(0, firstGlob).join('/') || '.'), pattern, recursive: pattern.includes('/') };
}

/** Image files under the folder matching the pattern, sorted. Throws naming the folder if it cannot be read. */
export async function listFiles(query: FolderQuery): Promise<string[]> {
  const pattern = globToRegExp(query.pattern ?? (query.recursive ? `**/${IMAGE_PATTERN}` : IMAGE_PATTERN));
  let entries;
  try {
    entries = await readdir(query.dir, { withFileTypes: true, recursive: query.recursive ?? false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`source: cannot list ${query.dir}: ${code === 'ENOENT' ? 'folder not found' : code === 'ENOTDIR' ? 'not a folder' : String(error)}`);
  }
  return entries
    .filter((e) => e.isFile() && !isTemporaryName(e.name))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .filter((p) => pattern.test(relative(query.dir, p).split(sep).join('/')))
    .sort();
}

/** The folder's images, or the one file when the source names a file. */
export async function filesSource(query: FolderQuery): Promise<SourceRef[]> {
  if (!query.pattern && (await stat(query.dir).catch(() => undefined))?.isFile()) {
    return [{ path: query.dir, root: dirname(query.dir) }];
  }
  return (await listFiles(query)).map((path) => ({ path, root: query.dir }));
}

/** Images and labels matched by base name (extension ignored); the unmatched are returned for reporting. */
export async function pairsSource(images: FolderQuery, labels: FolderQuery) {
  const [imageFiles, labelFiles] = await Promise.all([listFiles(images), listFiles(labels)]);
  const stem = (p: string, root: string) => join(relative(root, dirname(p)), basename(p, extname(p)));
  const labelByStem = new Map(labelFiles.map((p) => [stem(p, labels.dir), p]));
  const refs: SourceRef[] = [];
  const unmatchedImages: string[] = [];
  for (const path of imageFiles) {
    const labelPath = labelByStem.get(stem(path, images.dir));
    if (labelPath) {
      refs.push({ path, labelPath, root: images.dir });
      labelByStem.delete(stem(path, images.dir));
    } else unmatchedImages.push(path);
  }
  return { refs, unmatchedImages, unmatchedLabels: [...labelByStem.values()] };
}
