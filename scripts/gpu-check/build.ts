/**
 * Builds the GPU check's kit: everything a lent GPU machine (no Node, no network, no
 * Vulkan loader) needs to run the check in one command, within what the device tool
 * carries beside the working tree (64 MiB in all).
 *
 *   <out>/run.sh            the runner (bash; unpacks the payload to a temporary folder)
 *   <out>/payload.tar.xz    bin/node (this machine's, stripped), app/ (the bundle, its
 *                           native packages, tfjs's .wasm files), model/isbi2012-em,
 *                           ref/ (a 512² slice and its probabilities on ONNX Runtime's
 *                           CPU provider), vulkan/lib (Debian's loader and libglvnd),
 *                           manifest.json
 *   <out>/manifest.json     the same manifest, readable without unpacking
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { readImage } from '../../src/io/read.js';
import { loadOnnxRuntime, openOnnxPredictor } from '../../src/model/engines/onnxruntime.js';
import { margin as marginOf, sizeMap } from '../../src/model/network/geometry.js';
import { loadModel } from '../../src/model/store.js';
import { bundle, externalPackages } from './bundle.js';
import { REFERENCE_MANIFEST, REFERENCE_SLICE, REFERENCE_SLICE_SIDE, referenceFile, tileAt, type Grey } from './inputs.js';
import { profiles } from './profile.js';

/** What one device-tool call may carry, working tree included. */
export const CARRY_LIMIT_BYTES = 64 * 2 ** 20;
/** Kept free under that limit for the working tree's growth. */
export const MARGIN_BYTES = 4 * 2 ** 20;

/** Debian packages whose libraries the kit carries: the Vulkan loader, and libglvnd, which NVIDIA's Vulkan driver (libGLX_nvidia) loads. */
const systemPackages = ['libvulkan1', 'libglvnd0', 'libglx0', 'libegl1', 'libgl1', 'libopengl0', 'libgles2'];

const SLICE = 'fixtures/isbi2012/test/00.png';
const MODEL = 'models/isbi2012-em';

export interface BuildOptions {
  readonly root: string;
  readonly out: string;
  /** xz -0 instead of -9e: for rehearsals, where the size limit is not checked. */
  readonly fast?: boolean;
  readonly log?: (line: string) => void;
}

export interface BuildResult {
  readonly out: string;
  readonly bytes: number;
  readonly workingTreeBytes: number;
  readonly limitBytes: number;
  readonly withinLimit: boolean;
}

export async function buildKit({ root, out, fast = false, log = (l) => process.stderr.write(`${l}\n`) }: BuildOptions): Promise<BuildResult> {
  const staging = mkdtempSync(join(tmpdir(), 'unetflow-gpu-kit-'));
  try {
    const t = Date.now();
    const app = join(staging, 'app');
    log('gpu-kit: bundling the CLI and the check (esbuild)');
    await bundle(root, app);
    const wasmDir = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
    for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasmDir, f), join(app, f));
    copyNativePackages(root, join(app, 'node_modules'));

    log('gpu-kit: node (stripped)');
    mkdirSync(join(staging, 'bin'));
    cpSync(process.execPath, join(staging, 'bin/node'));
    chmodSync(join(staging, 'bin/node'), 0o755);
    execFileSync('strip', [join(staging, 'bin/node')]);

    cpSync(join(root, MODEL), join(staging, 'model', basename(MODEL)), { recursive: true, filter: (src) => !src.endsWith('README.md') });

    log('gpu-kit: reference probabilities on ONNX Runtime (CPU provider)');
    const reference = await writeReference(root, join(staging, 'ref'));

    log('gpu-kit: Vulkan loader and libglvnd from the installed Debian packages');
    const system = copySystemLibraries(join(staging, 'vulkan/lib'));

    const manifest = {
      builtAt: new Date().toISOString(),
      commit: git(root, ['rev-parse', 'HEAD']),
      dirty: git(root, ['status', '--porcelain', '--untracked-files=no']) !== '',
      node: process.version,
      packages: Object.fromEntries(['onnxruntime-node', 'webgpu', 'sharp', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu'].map((p) => [p, packageVersion(root, p)])),
      systemPackages: system,
      reference,
      compression: fast ? 'xz -0 (rehearsal)' : 'xz -9e',
      profiles: Object.keys(profiles),
    };
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    log(`gpu-kit: packing (${manifest.compression})`);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const payload = join(out, 'payload.tar.xz');
    execFileSync('bash', ['-c', `set -o pipefail; tar -C "$1" -cf - . | xz ${fast ? '-0' : '-9e'} -T${availableParallelism()} > "$2"`, 'pack', staging, payload]);
    cpSync(join(root, 'scripts/gpu-check/run.sh'), join(out, 'run.sh'));
    chmodSync(join(out, 'run.sh'), 0o755);
    cpSync(join(staging, 'manifest.json'), join(out, 'manifest.json'));

    const bytes = folderBytes(out);
    const workingTreeBytes = workingTree(root);
    const limitBytes = CARRY_LIMIT_BYTES - workingTreeBytes - MARGIN_BYTES;
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    log(`gpu-kit: ${out}: ${mib(bytes)} (payload ${mib(statSync(payload).size)}); working tree ${mib(workingTreeBytes)}; limit ${mib(limitBytes)} (64 MiB - working tree - ${mib(MARGIN_BYTES)} margin); built in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    return { out, bytes, workingTreeBytes, limitBytes, withinLimit: bytes <= limitBytes };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Files of the packages left outside the bundle, and what they load, for linux-x64 only. */
function copyNativePackages(root: string, to: string): void {
  const from = join(root, 'node_modules');
  const take = (pkg: string, keep: (path: string) => boolean) => {
    const src = join(from, pkg);
    if (!existsSync(src)) throw new Error(`gpu-kit: ${src} is missing: the kit needs ${pkg} installed (npm ci)`);
    cpSync(src, join(to, pkg), {
      recursive: true,
      dereference: true,
      filter: (path) => {
        const rel = relative(src, path);
        return rel === '' || lstatSync(path).isDirectory() || keep(rel);
      },
    });
  };
  const js = (rel: string) => /\.(c|m)?js$|(^|\/)package\.json$/.test(rel) && !rel.includes('node_modules');
  const wanted: Record<(typeof externalPackages)[number] | string, (rel: string) => boolean> = {
    'onnxruntime-node': (rel) => (js(rel) && rel.startsWith('dist/')) || rel === 'package.json' || rel.startsWith('bin/napi-v6/linux/x64/'),
    'onnxruntime-common': (rel) => js(rel) && (rel === 'package.json' || rel.startsWith('dist/cjs/') || rel.startsWith('dist/esm/')),
    webgpu: (rel) => rel === 'package.json' || rel === 'index.js' || rel.startsWith('dist/linux-x64/'),
    sharp: (rel) => rel === 'package.json' || (js(rel) && (rel.startsWith('dist/') || rel.startsWith('lib/'))),
    '@img/sharp-linux-x64': (rel) => !rel.endsWith('.md'),
    '@img/sharp-libvips-linux-x64': (rel) => !rel.endsWith('.md') && !rel.startsWith('include/'),
    '@img/colour': js,
    'detect-libc': js,
    semver: js,
  };
  for (const pkg of externalPackages) if (!(pkg in wanted)) throw new Error(`gpu-kit: no file list for the external package ${pkg}`);
  for (const [pkg, keep] of Object.entries(wanted)) take(pkg, keep);
}

/**
 * ref/slice.u8 (the 512² fixture slice, raw bytes) and, for each profile's forward
 * tile, the shipped model's probabilities on that tile (NHWC float32) on ONNX Runtime's
 * CPU provider.
 */
async function writeReference(root: string, dir: string): Promise<Record<string, unknown>> {
  mkdirSync(dir, { recursive: true });
  const image = await readImage(join(root, SLICE));
  if (image.width !== REFERENCE_SLICE_SIDE || image.height !== REFERENCE_SLICE_SIDE || image.channels !== 1 || image.dtype !== 'uint8') {
    throw new Error(`${SLICE}: expected a ${REFERENCE_SLICE_SIDE}² 8-bit grey slice, got ${image.width}x${image.height}x${image.channels} ${image.dtype}`);
  }
  const slice: Grey = { width: image.width, height: image.height, data: new Uint8Array(image.data as Uint8Array) };
  writeFileSync(join(dir, REFERENCE_SLICE), slice.data);
  const runtime = await loadOnnxRuntime();
  const tiles: Record<string, unknown> = {};
  for (const size of [...new Set(Object.values(profiles).map((p) => p.forwardTile))]) {
    const { model } = await loadModel(join(root, MODEL));
    const config = model.config;
    const predictor = await openOnnxPredictor(model, runtime, { threads: availableParallelism(), name: MODEL });
    try {
      const probabilities = await predictor.predict(tileAt(slice, 0, 0, size, marginOf(config)), 1, size, 'none');
      writeFileSync(join(dir, referenceFile(size)), Buffer.from(probabilities.buffer, probabilities.byteOffset, probabilities.byteLength));
      tiles[String(size)] = { file: referenceFile(size), output: sizeMap(size, config).output, classes: config.classes, layout: 'NHWC float32' };
    } finally {
      await predictor.close();
    }
  }
  const reference = { slice: SLICE, computedOn: `onnxruntime-node ${runtime.version}, CPU execution provider`, tiles };
  writeFileSync(join(dir, REFERENCE_MANIFEST), `${JSON.stringify(reference, null, 2)}\n`);
  return reference;
}

/** The shared libraries of `systemPackages` as installed here (links kept), with their versions. */
function copySystemLibraries(to: string): Record<string, string> {
  mkdirSync(to, { recursive: true });
  const versions: Record<string, string> = {};
  for (const pkg of systemPackages) {
    let files: string[];
    try {
      versions[pkg] = execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
      files = execFileSync('dpkg', ['-L', pkg], { encoding: 'utf8' }).split('\n');
    } catch {
      throw new Error(`gpu-kit: the Debian package ${pkg} is not installed here; install it (apt-get install ${pkg}) so that the kit can carry its libraries`);
    }
    for (const file of files.filter((f) => /\/lib\/x86_64-linux-gnu\/[^/]+\.so[.\d]*$/.test(f))) {
      cpSync(file, join(to, basename(file)), { verbatimSymlinks: true });
    }
  }
  if (!existsSync(join(to, 'libvulkan.so.1'))) throw new Error('gpu-kit: libvulkan1 gave no libvulkan.so.1');
  return versions;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** Bytes of what the device tool sends beside carried paths: tracked files, and untracked ones git does not ignore. */
function workingTree(root: string): number {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  let total = 0;
  for (const f of files) {
    const path = join(root, f);
    if (existsSync(path) && lstatSync(path).isFile()) total += lstatSync(path).size;
  }
  return total;
}

function git(root: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function packageVersion(root: string, pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

