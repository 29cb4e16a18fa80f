/**
 * `npm run build:web`: the web app as a static folder, `dist/web/` (any static web
 * server can host it; `unetflow app` serves it on 127.0.0.1):
 *
 *   index.html, page.css, ...     src/web/page/'s page and its files (else a placeholder, src/web/index.html)
 *   page.js                       src/web/page/main.ts, bundled
 *   worker.js                     src/web/worker.ts, bundled: the runner in a Web Worker
 *   service-worker.js             src/web/service-worker.ts, bundled
 *   models/isbi2012-em/           the shipped model
 *   pipelines/*.yaml, index.json  the example pipelines, and their names
 *   fixtures/isbi2012/test/       the Quick start's three slices (its `source` names them)
 *   ort/                          ONNX Runtime Web's wasm and its loaders (plain, JSEP and asyncify builds)
 *   precache.json                 what the service worker keeps for use offline: the model and ort/
 *
 * An entry that is not there yet is left out, saying so. What differs between Node and
 * the page goes through src/host, whose page implementations are in src/web/host; Node
 * modules that shared code still imports for its Node paths are bundled as modules that
 * refuse to be used (pageModules).
 */
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');

const ENTRIES: Record<string, string> = {
  'page.js': 'src/web/page/main.ts',
  'worker.js': 'src/web/worker.ts',
  'service-worker.js': 'src/web/service-worker.ts',
};

const ORT_FILES = /^ort-wasm-simd-threaded(\.jsep|\.asyncify)?\.(wasm|mjs)$/;

/** Node-only modules: what the page bundles cannot hold. */
const NODE_ONLY = /^(node:.*|sharp|onnxruntime-node|@tensorflow\/.*|webgpu|chokidar|bullmq|ioredis|@hono\/node-server)$/;

/** Node modules the page has its own implementation of, in src/web/host. */
const PAGE_MODULES: Record<string, string> = {
  'node:path': 'src/web/host/path.ts',
  'node:async_hooks': 'src/web/host/async-context.ts',
};

/**
 * The page's side of the modules shared code imports (what package.json's `browser`
 * field does for a package): node:path and node:async_hooks become the page's own
 * (src/web/host), and every other Node-only module an empty one whose every member
 * throws, naming itself and the file that imported it, when it is used. Shared modules
 * keep their Node paths (reading a model folder on disk, sharp) beside the ones the page
 * takes through src/host, and a page that took one of them by mistake fails with that
 * message instead of loading nothing.
 */
export const pageModules: Plugin = {
  name: 'unetflow-page-modules',
  setup(b) {
    b.onResolve({ filter: NODE_ONLY }, (args) => {
      const own = PAGE_MODULES[args.path];
      if (own) return { path: join(ROOT, own) };
      // One refusing module per importer, with the names that importer takes from it.
      return { path: `${args.path} (imported by ${args.importer ? relative(ROOT, args.importer) : 'the entry'})`, namespace: 'node-only', pluginData: { module: args.path, importer: args.importer } };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, async (args) => {
      const { module, importer } = args.pluginData as { module: string; importer?: string };
      const names = importer ? importedNames(await readFile(importer, 'utf8'), module) : new Set<string>();
      const exports = [...names].filter((n) => n !== 'default').map((n, i) => `const m${i} = member(${JSON.stringify(n)});\nexport { m${i} as ${n} };`);
      return {
        loader: 'js',
        resolveDir: ROOT,
        contents: [
          `const where = ${JSON.stringify(args.path)};`,
          'const refuse = (name) => { throw new Error(`${name}: ${where} runs only in Node, not in a page`); };',
          'const member = (name) => new Proxy(function () {}, { apply: () => refuse(name), construct: () => refuse(name), get: (_, key) => (typeof key === "symbol" ? undefined : refuse(`${name}.${String(key)}`)) });',
          "export default member('default');",
          ...exports,
        ].join('\n'),
      };
    });
  },
};

/** The names a TypeScript source takes from `module`: named and default imports, and the members used of a namespace import. */
function importedNames(source: string, module: string): Set<string> {
  const names = new Set<string>();
  const quoted = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  for (const m of source.matchAll(new RegExp(`import\\s+(type\\s+)?([^'";]*?)\\s+from\\s+['"]${quoted}['"]`, 'g'))) {
    if (m[1]) continue;
    const clause = m[2];
    const namespace = /\*\s+as\s+(\w+)/.exec(clause);
    if (namespace) for (const use of source.matchAll(new RegExp(`\\b${namespace[1]}\\.(\\w+)`, 'g'))) names.add(use[1]);
    const named = /\{([^}]*)\}/.exec(clause);
    for (const part of named ? named[1].split(',') : []) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0];
      if (name && !/^type\s/.test(part.trim())) names.add(name);
    }
  }
  return names;
}

export interface WebBuild {
  readonly outDir: string;
  /** Bundles written, by file name. */
  readonly bundles: readonly string[];
  /** Entries not there yet, with their source. */
  readonly missing: readonly string[];
}

/** @param entries bundles to write (file name -> source, relative to the checkout); a test gives its own */
export async function buildWeb(outDir = join(ROOT, 'dist/web'), log: (line: string) => void = () => undefined, entries: Readonly<Record<string, string>> = ENTRIES): Promise<WebBuild> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });

  const page = join(ROOT, 'src/web/page');
  if (existsSync(join(page, 'index.html'))) {
    for (const f of await readdir(page)) if (!/\.ts$/.test(f)) await cp(join(page, f), join(outDir, f), { recursive: true });
  } else {
    await cp(join(ROOT, 'src/web/index.html'), join(outDir, 'index.html'));
  }

  const bundles: string[] = [];
  const missing: string[] = [];
  for (const [out, entry] of Object.entries(entries)) {
    if (!existsSync(resolve(ROOT, entry))) {
      missing.push(entry);
      log(`build:web: ${entry} is not there yet: ${out} left out`);
      continue;
    }
    await build({
      absWorkingDir: ROOT,
      entryPoints: [entry],
      outfile: join(outDir, out),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      sourcemap: true,
      minify: true,
      plugins: [pageModules],
      logLevel: 'silent',
    });
    bundles.push(out);
  }

  await cp(join(ROOT, 'models/isbi2012-em'), join(outDir, 'models/isbi2012-em'), { recursive: true });
  const pipelines = (await readdir(join(ROOT, 'pipelines'))).filter((f) => /\.ya?ml$/.test(f)).sort();
  await mkdir(join(outDir, 'pipelines'));
  for (const f of pipelines) await cp(join(ROOT, 'pipelines', f), join(outDir, 'pipelines', f));
  await writeFile(join(outDir, 'pipelines/index.json'), JSON.stringify(pipelines) + '\n');
  await cp(join(ROOT, 'fixtures/isbi2012/test'), join(outDir, 'fixtures/isbi2012/test'), { recursive: true });

  const ortDist = join(ROOT, 'node_modules/onnxruntime-web/dist');
  await mkdir(join(outDir, 'ort'));
  for (const f of await readdir(ortDist)) if (ORT_FILES.test(f)) await cp(join(ortDist, f), join(outDir, 'ort', f));

  const kept = [...(await filesUnder(outDir, 'models')), ...(await filesUnder(outDir, 'ort'))];
  await writeFile(join(outDir, 'precache.json'), JSON.stringify(kept, null, 1) + '\n');
  log(`build:web: ${relative(process.cwd(), outDir) || '.'} written (${bundles.join(', ') || 'no bundle'}; ${pipelines.length} pipelines, the model, ONNX Runtime Web)`);
  return { outDir, bundles, missing };
}

/** Files below `dir/sub`, as URLs relative to `dir`. */
async function filesUnder(dir: string, sub: string): Promise<string[]> {
  const entries = await readdir(join(dir, sub), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/')).sort();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outDir = process.argv[2] ? resolve(process.argv[2]) : undefined;
  buildWeb(outDir, (line) => process.stderr.write(`${line}\n`)).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
}
