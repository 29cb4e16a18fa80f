/**
 * The kit's JavaScript: one esbuild bundle of the CLI, of the worker-thread replica
 * it starts (threads/pool.ts looks for `replica.js` beside itself) and of the check's
 * stages, sharing chunks. Pure-JavaScript packages are bundled; the packages with
 * native parts (ONNX Runtime, Dawn's `webgpu`, sharp) stay outside and are copied
 * beside the bundle by build.ts, as are tfjs's .wasm files, which its emscripten
 * loader finds next to the script that loads it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

/** Packages left outside the bundle, copied into the kit's node_modules (build.ts). */
export const externalPackages = ['onnxruntime-node', 'webgpu', 'sharp'] as const;

/**
 * Packages the bundle refers to but the kit does not hold: absent there, they read as
 * not installed, as on any machine where npm could not install them.
 */
export const absentPackages = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'msgpackr-extract', 'playwright-core', 'tsx'] as const;

/** Optional packages that the bundle holds (import.meta.resolve cannot find them in it). */
const bundledOptional = ['@tensorflow/tfjs-backend-webgpu'];

/**
 * optional.ts imports by a name computed at run time, which a bundler cannot follow:
 * this plugin rewrites its two lines so that each optional package is one literal
 * import, and the ones held in the bundle are not looked for on disk.
 */
function literalOptionalImports(root: string): esbuild.Plugin {
  const file = join(root, 'src/model/engines/optional.ts');
  return {
    name: 'literal-optional-imports',
    setup(build) {
      build.onLoad({ filter: /src[\\/]model[\\/]engines[\\/]optional\.ts$/ }, async (args) => {
        let source = await readFile(args.path, 'utf8');
        const resolveLine = 'import.meta.resolve(name);';
        const importLine = 'return import(name);';
        for (const line of [resolveLine, importLine]) {
          if (!source.includes(line)) throw new Error(`${file}: expected the line '${line}' for the kit's bundle to rewrite; update scripts/gpu-check/bundle.ts`);
        }
        const held = JSON.stringify(bundledOptional);
        source = source.replace(resolveLine, `if (!${held}.includes(name)) import.meta.resolve(name);`);
        const imports = (source.match(/export const optionalPackages = \[([^\]]*)\]/)?.[1] ?? '')
          .split(',')
          .map((s) => s.trim().replace(/^'|'$/g, ''))
          .filter(Boolean);
        if (imports.length === 0) throw new Error(`${file}: no optionalPackages list found for the kit's bundle`);
        const cases = imports.map((name) => `case ${JSON.stringify(name)}: return import(${JSON.stringify(name)});`).join(' ');
        source = source.replace(importLine, `switch (name) { ${cases} default: throw new PackageMissing(name, 'not in this bundle'); }`);
        return { contents: source, loader: 'ts' };
      });
    },
  };
}

/**
 * tfjs-backend-wasm's Node build is CommonJS that reads `__dirname`, and some packages
 * call `require`: an ES module bundle defines both from its own location.
 */
const banner = [
  "import { createRequire as __kitCreateRequire } from 'node:module';",
  "import { fileURLToPath as __kitFileURLToPath } from 'node:url';",
  "import { dirname as __kitDirname } from 'node:path';",
  'const require = __kitCreateRequire(import.meta.url);',
  'const __filename = __kitFileURLToPath(import.meta.url);',
  'const __dirname = __kitDirname(__filename);',
].join('\n');

/** Bundles the CLI (main.js), the replica (replica.js) and the check (check.js) into `outDir`. */
export async function bundle(root: string, outDir: string): Promise<esbuild.Metafile> {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: {
      main: 'src/cli/main.ts',
      replica: 'src/model/threads/replica.ts',
      check: 'scripts/gpu-check/check.ts',
    },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    banner: { js: banner },
    external: [...externalPackages, ...absentPackages],
    plugins: [literalOptionalImports(root)],
    metafile: true,
    logLevel: 'error',
  });
  return result.metafile;
}
