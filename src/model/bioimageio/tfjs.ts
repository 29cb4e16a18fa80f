/**
 * The tfjs weights a unetflow export keeps in a package (`weights.tensorflow_js`, a zip
 * of the model folder), for fine-tuning: `train` can start from a package unetflow
 * exported. Zoo packages carry no such entry; for them the error names what they offer.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { loadModel, type LoadedModel } from '../store.js';
import { readChecked, openPackage } from './package.js';
import { weightFormats } from './rdf.js';

/** The model folder inside the package at `path`, loaded as loadModel does; throws saying why a package has none. */
export async function loadPackageTfjs(path: string): Promise<LoadedModel> {
  const pkg = openPackage(path);
  const entry = pkg.rdf.weights.tensorflow_js;
  if (!entry) {
    const offered = weightFormats.filter((f) => pkg.rdf.weights[f]).join(', ');
    throw new Error(`${path}: the package has no tensorflow_js weights (it offers ${offered}): unetflow fine-tunes only packages it exported itself; train a new model on your data instead`);
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(readChecked(pkg, entry, 'tensorflow_js weights'));
  } catch (error) {
    throw new Error(`${path}: ${entry.source} is not a zip of a unetflow model folder: ${(error as Error).message}`, { cause: error });
  }
  if (!files['model.json']) throw new Error(`${path}: ${entry.source} holds no model.json: not a unetflow model folder`);
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-package-'));
  try {
    for (const [name, bytes] of Object.entries(files)) if (!name.includes('/')) await writeFile(join(dir, name), bytes);
    return await loadModel(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
