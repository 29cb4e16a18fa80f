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
 * An entry that is not there yet is left out, saying so. A bundle that reaches a Node
 * module (node:*, sharp, tfjs-node, onnxruntime-node) fails the build naming the module
 * and the file that imports it: what differs between Node and the page goes through
 * src/host, whose page implementations are in src/web/host.
 */
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
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

/** Node-only modules: a page bundle that reaches one is wrong. */
const NODE_ONLY = /^(node:.*|sharp|onnxruntime-node|@tensorflow\/tfjs-node(-gpu)?|webgpu|chokidar|bullmq|ioredis|@hono\/node-server)$/;

const refuseNode: Plugin = {
  name: 'refuse-node-modules',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (!NODE_ONLY.test(args.path)) return undefined;
      const from = args.importer ? relative(ROOT, args.importer) : '(entry)';
      return { errors: [{ text: `${args.path} runs only in Node, and ${from} imports it: the page must reach it through src/host (src/web/host has the page's implementations)` }] };
    });
  },
};

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
      plugins: [refuseNode],
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
