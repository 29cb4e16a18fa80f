/** Listing image folders (or one file), in sorted order: the `files` and `pairs` sources, and `train`'s validation set. */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { SourceRef } from '../sample.js';
import { globToRegExp, IMAGE_PATTERN, isGlob, isTemporaryName } from './glob.js';
import { inputKind } from './input-kind.js';

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

/** Called for an entry that is left out for a reason the user should hear of (a broken link, a FIFO, a device). */
export type OnSkip = (path: string, why: string) => void;

/**
 * Image files under the folder matching the pattern, sorted. Symbolic links are
 * followed, to files and, in a recursive listing, to folders; a folder reached twice
 * (a link cycle, or two links to one folder) is listed once. Throws naming the folder
 * if it cannot be read.
 */
export async function listFiles(query: FolderQuery, onSkip?: OnSkip): Promise<string[]> {
  const pattern = globToRegExp(query.pattern ?? (query.recursive ? `**/${IMAGE_PATTERN}` : IMAGE_PATTERN));
  const files: string[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string) => {
    const real = await realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, e.name);
      const wanted = !isTemporaryName(e.name) && pattern.test(relative(query.dir, path).split(sep).join('/'));
      let file = e.isFile();
      let folder = e.isDirectory();
      if (e.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        file = target?.isFile() ?? false;
        folder = target?.isDirectory() ?? false;
      }
      if (file && wanted) files.push(path);
      else if (folder && query.recursive) await visit(path);
      // A FIFO or a device named like an image would block or never end when read: said once, here.
      else if (wanted && !file) onSkip?.(path, await whyNotAnInput(path));
    }
  };
  try {
    await visit(query.dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = (error as NodeJS.ErrnoException).path ?? query.dir;
    throw new Error(`source: cannot list ${where}: ${code === 'ENOENT' ? 'folder not found' : code === 'ENOTDIR' ? 'not a folder' : String(error)}`, { cause: error });
  }
  return files.sort();
}

/** Why a listed entry that is not a regular file (nor a link to one) is no input. */
async function whyNotAnInput(path: string): Promise<string> {
  const kind = await inputKind(path).catch((error: NodeJS.ErrnoException) => ({ regular: false, what: `unreadable (${error.code ?? error.message})` }) as const);
  if (kind.regular) return 'it changed while the folder was listed';
  return kind.what === 'a symbolic link whose target is missing' ? kind.what : `not an image file but ${kind.what} (only regular files, or links to them, are read)`;
}

/** The folder's images, or the one file when the source names a file. */
export async function filesSource(query: FolderQuery, onSkip?: OnSkip): Promise<SourceRef[]> {
  if (!query.pattern) {
    const kind = await inputKind(query.dir).catch(() => undefined);
    if (kind?.regular) return [{ path: query.dir, root: dirname(query.dir) }];
    if (kind && !kind.what.endsWith('a folder')) throw new Error(`source: ${query.dir}: not an image file but ${kind.what} (only regular files, or links to them, are read)`);
  }
  return (await listFiles(query, onSkip)).map((path) => ({ path, root: query.dir }));
}

/** Images and labels matched by base name (extension ignored); the unmatched are returned for reporting. */
export async function pairsSource(images: FolderQuery, labels: FolderQuery, onSkip?: OnSkip) {
  const [imageFiles, labelFiles] = await Promise.all([listFiles(images, onSkip), listFiles(labels, onSkip)]);
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
