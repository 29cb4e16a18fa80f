/**
 * The page's files, all served by the package itself (the page works with no network):
 * index.html, app.js, style.css and the icon from ./assets, and uPlot's ES module and stylesheet
 * straight from its installed package, so the version served is the one package.json
 * pins and its licence travels with it. Nothing else can be asked for by name.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** In a checkout this file sits beside assets/; compiled into dist/src/serve, the assets are still in src/serve (package.json `files`). */
function assetsFolder(): string {
  const beside = fileURLToPath(new URL('./assets/', import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(new URL('../../../src/serve/assets/', import.meta.url));
}

const ASSETS: Record<string, { path: () => string; type: string }> = {
  'index.html': { path: () => join(assetsFolder(), 'index.html'), type: 'text/html; charset=utf-8' },
  'app.js': { path: () => join(assetsFolder(), 'app.js'), type: 'text/javascript; charset=utf-8' },
  'style.css': { path: () => join(assetsFolder(), 'style.css'), type: 'text/css; charset=utf-8' },
  'favicon.svg': { path: () => join(assetsFolder(), 'favicon.svg'), type: 'image/svg+xml' },
  'uPlot.esm.js': { path: () => require.resolve('uplot/dist/uPlot.esm.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const cache = new Map<string, Buffer>();

/** The named asset, or a 404 for any other name. */
export async function assetResponse(name: string): Promise<Response> {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) return new Response('not found\n', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  let body = cache.get(name);
  if (!body) cache.set(name, (body = await readFile(asset.path())));
  return new Response(new Uint8Array(body), { headers: { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' } });
}
