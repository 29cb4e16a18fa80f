/**
 * A bioimage.io model package as a folder or a zip: its description (`rdf.yaml`,
 * `bioimageio.yaml` or `*.bioimageio.yaml`) and the files it names, read by their
 * relative paths and checked against their sha256. Synchronous, so that a pipeline's
 * geometry can be read when the pipeline is checked; a zip is inflated one file at a
 * time.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { parse } from 'yaml';
import { decodeRdf, type FileDescr, type Rdf } from './rdf.js';

export interface Package {
  /** The folder or zip, as given. */
  readonly where: string;
  /** The description file's name inside the package. */
  readonly descriptionName: string;
  readonly rdf: Rdf;
  /** A file the description names, by its relative path; throws naming it when absent. */
  read(path: string): Uint8Array;
  /** Whether the package holds `path`. */
  has(path: string): boolean;
}

const DESCRIPTION = /(^|\/)(rdf\.yaml|bioimageio\.yaml|[^/]*\.bioimageio\.yaml)$/;

/** Whether `path` is a package rather than a unetflow model folder: a zip, or a folder with a description file. */
export function isPackage(path: string): boolean {
  if (path.endsWith('.zip')) return true;
  try {
    return statSync(path).isDirectory() && readdirSync(path).some((f) => DESCRIPTION.test(f)) && !existsSync(join(path, 'model.json'));
  } catch {
    return false;
  }
}

/** Opens the package at `path` (folder or .zip) and decodes its description. */
export function openPackage(path: string): Package {
  let files: { names: string[]; read: (name: string) => Uint8Array | undefined };
  try {
    files = statSync(path).isDirectory() ? folderFiles(path) : zipFiles(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot open the bioimage.io package: ${code === 'ENOENT' ? 'not found' : (error as Error).message}`, { cause: error });
  }
  const descriptions = files.names.filter((n) => DESCRIPTION.test(n) && !n.includes('/'));
  if (descriptions.length === 0) throw new Error(`${path}: no rdf.yaml or bioimageio.yaml in it: not a bioimage.io package`);
  const descriptionName = descriptions.includes('rdf.yaml') ? 'rdf.yaml' : descriptions[0];
  const where = `${path}${path.endsWith('.zip') ? ':' : '/'}${descriptionName}`;
  let value: unknown;
  try {
    value = parse(new TextDecoder().decode(files.read(descriptionName)));
  } catch (error) {
    throw new Error(`${where}: not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  const rdf = decodeRdf(value, where);
  const has = (name: string) => files.names.includes(normalise(name));
  return {
    where: path,
    descriptionName,
    rdf,
    has,
    read(name) {
      if (/^https?:\/\//.test(name)) throw new Error(`${path}: ${name} is a URL: unetflow runs packages offline — download the file into the package and name it by its relative path`);
      const bytes = has(name) ? files.read(normalise(name)) : undefined;
      if (!bytes) throw new Error(`${path}: the description names ${name}, which the package does not hold`);
      return bytes;
    },
  };
}

/** The sha256 (hex) of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A file the description names, checked against its sha256 when one is given.
 * @param what what the file is, for the error (e.g. `weights.onnx`)
 */
export function readChecked(pkg: Package, file: FileDescr, what: string): Uint8Array {
  const bytes = pkg.read(file.source);
  if (file.sha256 !== undefined && sha256(bytes) !== file.sha256.toLowerCase()) {
    throw new Error(`${pkg.where}: ${file.source} (${what}) is corrupt or was replaced: its sha256 is ${sha256(bytes)}, the description says ${file.sha256}`);
  }
  return bytes;
}

function normalise(name: string): string {
  return name.replace(/^\.\//, '');
}

function folderFiles(dir: string) {
  const names = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.replace(/\/$/, '').length + 1));
  return { names, read: (name: string) => readFileSync(join(dir, name)) as Uint8Array };
}

function zipFiles(path: string) {
  const zip = readFileSync(path);
  const names: string[] = [];
  unzipSync(zip, { filter: (f) => (names.push(f.name), false) });
  return { names, read: (name: string) => unzipSync(zip, { filter: (f) => f.name === name })[name] };
}

/** A file the description names with a sha256, where it names it, and the weights format it belongs to (if any). */
export interface DescribedFile {
  readonly path: string;
  readonly source: string;
  readonly sha256: string;
  readonly weights?: string;
}

/** Every `{ source, sha256 }` anywhere in the description (weights, test tensors, architecture, attachments, ...). */
export function describedFiles(rdf: Rdf): DescribedFile[] {
  const out: DescribedFile[] = [];
  const visit = (value: unknown, path: string, weights?: string) => {
    if (Array.isArray(value)) return value.forEach((v, i) => visit(v, `${path}[${i}]`, weights));
    if (!value || typeof value !== 'object') return;
    const o = value as Record<string, unknown>;
    if (typeof o.source === 'string' && typeof o.sha256 === 'string') out.push({ path, source: o.source, sha256: o.sha256.toLowerCase(), ...(weights ? { weights } : {}) });
    for (const [k, v] of Object.entries(o)) visit(v, path ? `${path}.${k}` : k, weights ?? (path === 'weights' ? k : undefined));
  };
  visit(rdf, '');
  return out;
}
