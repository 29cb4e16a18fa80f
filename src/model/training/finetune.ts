/**
 * Starting a new model from another one (`train: { from: PARENT, model: NEW }`): the
 * parent is read, never written; its weights are copied into a new network, whose
 * final 1x1 layer is replaced (He-initialised from the seed) when the number of
 * classes changes; the contracting path can be frozen; and the new model's
 * provenance names the parent and the sha256 of its weights.
 *
 * `loadParent` is the one place a parent is read: a unetflow model folder, or a
 * bioimage.io package that unetflow exported (its `tensorflow_js` weights are the
 * model folder; zoo packages carry none and are refused, naming what they offer).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors.js';
import { deriveSeed } from '../../random.js';
import { checkModelDir, loadModel, type LoadedModel, type ModelMetadata } from '../store.js';
import { isPackage, openPackage, readChecked, sha256 } from '../bioimageio/package.js';
import { loadPackageTfjs } from '../bioimageio/tfjs.js';
import { UNet, unetConfig, weightSpecs } from '../network/unet.js';

/** What a child model records about its parent in `provenance.parent`. */
export interface ParentRecord {
  /** The path `from:` gave, as resolved when training started. */
  readonly path: string;
  /** The parent's own name (its folder's or package's). */
  readonly name: string;
  readonly format: 'unetflow' | 'bioimage.io';
  /**
   * unetflow: sha256 over the weights files, in model.json's order; bioimage.io: the
   * sha256 of the package's tensorflow_js weights archive (as its rdf.yaml lists it).
   */
  readonly sha256: string;
  /** The parent's training step, when its provenance has one. */
  readonly step?: number;
  readonly classes: number;
  readonly normalisation: ModelMetadata['normalisation'];
}

export interface Parent {
  readonly model: UNet;
  readonly metadata: ModelMetadata;
  readonly record: ParentRecord;
}

/**
 * Reads the model named by `from:`. Throws a ConfigError (the run ends with exit code
 * 2), naming the path, for anything that is not a complete model unetflow can train.
 */
export async function loadParent(path: string): Promise<Parent> {
  const format = await parentFormat(path);
  let loaded: LoadedModel;
  let hash: string;
  const unreadable = (error: unknown) => new ConfigError(`from: ${path}: cannot read the parent model: ${(error as Error).message}`, { cause: error });
  try {
    loaded = format === 'bioimage.io' ? await loadPackageTfjs(path) : await loadModel(path);
  } catch (error) {
    throw unreadable(error);
  }
  try {
    hash = format === 'bioimage.io' ? packageWeightsHash(path) : await weightsHash(path);
  } catch (error) {
    loaded.model.dispose();
    throw unreadable(error);
  }
  const { model, metadata } = loaded;
  const step = Number(metadata.provenance?.step);
  const record: ParentRecord = {
    path,
    name: basename(resolve(path)).replace(/\.zip$/, ''),
    format,
    sha256: hash,
    ...(Number.isFinite(step) ? { step } : {}),
    classes: model.config.classes,
    normalisation: metadata.normalisation,
  };
  return { model, metadata, record };
}

/** Checks what `from:` names without building the network (`unetflow validate`, and before a run). */
export async function checkParent(path: string): Promise<void> {
  const format = await parentFormat(path);
  try {
    if (format === 'unetflow') await checkModelDir(path);
    else (await loadPackageTfjs(path)).model.dispose();
  } catch (error) {
    throw new ConfigError(`from: ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** What `from:` names: a unetflow model folder or a bioimage.io package (a .zip, or a folder with rdf.yaml and no model.json). */
async function parentFormat(path: string): Promise<ParentRecord['format']> {
  const info = await stat(path).catch((error: unknown) => {
    throw new ConfigError(`from: ${path}: not found (expected a unetflow model folder or a bioimage.io package)`, { cause: error });
  });
  if (isPackage(path)) return 'bioimage.io';
  if (!info.isDirectory()) throw new ConfigError(`from: ${path}: expected a unetflow model folder or a bioimage.io package (.zip), got another file`);
  return 'unetflow';
}

/** The sha256 of a package's tensorflow_js weights archive, checked against its rdf.yaml as it is read. */
function packageWeightsHash(path: string): string {
  const pkg = openPackage(path);
  return sha256(readChecked(pkg, pkg.rdf.weights.tensorflow_js!, 'tensorflow_js weights'));
}

/** sha256 over the weights files model.json lists, in its order: the identity of the parent's weights. */
export async function weightsHash(dir: string): Promise<string> {
  const modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const hash = createHash('sha256');
  for (const group of modelJson.weightsManifest) for (const p of group.paths) hash.update(await readFile(join(dir, p)));
  return hash.digest('hex');
}

/** Refuses a new model folder that is the parent's, or inside it, or holds it: the parent is never written. */
export function requireSeparateFolders(parentDir: string, modelDir: string): void {
  const inside = (a: string, b: string) => {
    const r = relative(resolve(b), resolve(a));
    return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && !/^[a-zA-Z]:/.test(r));
  };
  if (inside(modelDir, parentDir) || inside(parentDir, modelDir)) {
    throw new Error(`train: model ${modelDir} and from ${parentDir} overlap: fine-tuning writes a new model folder and never into the one it starts from — name another folder`);
  }
}

/**
 * A copy of `parent` with `classes` output classes: every weight copied, the final
 * 1x1 layer (`head`) He-initialised from `seed` when the number of classes differs.
 * The parent is left as it was (dispose it separately).
 */
export function adaptNetwork(parent: UNet, classes: number, seed: number): { model: UNet; headReplaced: boolean } {
  const config = unetConfig({ ...parent.config, classes });
  const headReplaced = classes !== parent.config.classes;
  const weights = new Map<string, tf.Variable>();
  for (const s of weightSpecs(config)) {
    const init = headReplaced && s.name.startsWith('head/')
      ? s.fanIn === 0
        ? tf.zeros(s.shape)
        : tf.randomNormal(s.shape, 0, Math.sqrt(2 / s.fanIn), 'float32', deriveSeed(seed, s.name) % 2 ** 31)
      : parent.weights.get(s.name)!.clone();
    weights.set(s.name, tf.variable(init, true));
    init.dispose(); // tf.variable copies its initial value
  }
  return { model: new UNet(config, weights), headReplaced };
}

/** What `freeze` names: `encoder` is the contracting path, every `down<level>` convolution including the bottom one. */
export type Freeze = 'none' | 'encoder';

/** The weight names `freeze` keeps fixed. */
export function frozenWeights(model: UNet, freeze: Freeze): string[] {
  if (freeze === 'none') return [];
  return [...model.weights.keys()].filter((name) => name.startsWith('down'));
}
