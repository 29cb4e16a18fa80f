/**
 * `unetflow app [--port N]`: the web app (`npm run build:web` writes it to dist/web) served
 * on 127.0.0.1 for trying it out. The app is a static folder that any web server can
 * host; this one adds what a facility's server should add too: COOP/COEP headers, so
 * that the page is cross-origin isolated and ONNX Runtime Web's wasm can use threads,
 * and `application/wasm` for its .wasm files. It serves until Ctrl-C or SIGTERM.
 */
import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { Command } from 'commander';
import { messageOf } from '../errors.js';
import { portNumber } from './serve.js';

export const APP_PORT = 8070;
export const BUILD_COMMAND = 'npm run build:web';

/** The headers every answer carries: cross-origin isolation (SharedArrayBuffer, wasm threads) and no sniffing. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
} as const;

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  webmanifest: 'application/manifest+json; charset=utf-8',
  map: 'application/json; charset=utf-8',
  wasm: 'application/wasm',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  yaml: 'text/yaml; charset=utf-8',
  yml: 'text/yaml; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

/** dist/web of this checkout or package: beside src/ in a checkout (src/cli/app.ts), or as dist/web next to the compiled dist/src/cli/app.js. */
export function defaultAppFolder(): string {
  const checkout = fileURLToPath(new URL('../../dist/web/', import.meta.url));
  const compiled = fileURLToPath(new URL('../../web/', import.meta.url));
  return existsSync(compiled) && !existsSync(checkout) ? compiled : checkout;
}

export interface AppServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `folder` (a built app: it must hold index.html) on `host:port`. */
export async function startAppServer(folder: string, { host = '127.0.0.1', port = APP_PORT }: { host?: string; port?: number } = {}): Promise<AppServer> {
  const root = resolve(folder);
  if (!existsSync(resolve(root, 'index.html'))) {
    throw new Error(`the web app is not built: ${resolve(root, 'index.html')} does not exist; build it with \`${BUILD_COMMAND}\``);
  }
  const realRoot = await realpath(root);
  const app = new Hono();
  app.on(['GET', 'HEAD'], '*', async (c) => {
    const file = await fileOf(realRoot, c);
    if (!file) return c.text('not found\n', 404, ISOLATION_HEADERS);
    const ext = /\.([a-z0-9]+)$/i.exec(file.path)?.[1]?.toLowerCase() ?? '';
    const body = c.req.method === 'HEAD' ? null : (Readable.toWeb(createReadStream(file.path)) as ReadableStream<Uint8Array>);
    // no-cache: a browser asks again (and gets a new build) while the service worker answers offline.
    return new Response(body, {
      headers: { ...ISOLATION_HEADERS, 'Content-Type': TYPES[ext] ?? 'application/octet-stream', 'Content-Length': String(file.size), 'Cache-Control': 'no-cache' },
    });
  });
  app.all('*', (c) => c.text('method not allowed: the app is static files\n', 405, { ...ISOLATION_HEADERS, Allow: 'GET, HEAD' }));
  const server = await listen(app, host, port);
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        // A browser's kept-alive connections would hold close() open; static files lose nothing when cut.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** The regular file a request names inside the folder, or undefined: `..`, hidden names and links out of the folder are not found. */
async function fileOf(root: string, c: Context): Promise<{ path: string; size: number } | undefined> {
  const url = c.req.url;
  const raw = url.slice(url.indexOf('/', url.indexOf('://') + 3)).split(/[?#]/)[0];
  const segments: string[] = [];
  for (const part of raw.split('/').filter(Boolean)) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    if (segment.startsWith('.') || /[/\\\0]/.test(segment)) return undefined;
    segments.push(segment);
  }
  // A folder's address gives its index.html: `/` is the app.
  let candidate = resolve(root, ...segments);
  try {
    if ((await stat(candidate)).isDirectory()) candidate = resolve(candidate, 'index.html');
    const real = await realpath(candidate);
    if (!real.startsWith(root + sep)) return undefined;
    const s = await stat(real);
    return s.isFile() ? { path: real, size: s.size } : undefined;
  } catch {
    return undefined;
  }
}

function listen(app: Hono, hostname: string, port: number): Promise<ServerType> {
  return new Promise((ok, fail) => {
    const server = serve({ fetch: app.fetch, hostname, port }, () => {
      server.off('error', onError);
      ok(server);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? `port ${port} is in use: give another with --port N (0: any free port)` : error.code === 'EADDRNOTAVAIL' ? `${hostname} is not an address of this machine` : error.message;
      fail(new Error(`app: cannot listen on ${hostname}:${port}: ${why}`, { cause: error }));
    };
    server.once('error', onError);
  });
}

/** `unetflow app`: 2 when the app is not built or the port is taken; 0 after Ctrl-C or SIGTERM. */
export async function appCommand(opts: { port: number; dir?: string }, err: { write(s: string): unknown }): Promise<number> {
  let server: AppServer;
  try {
    server = await startAppServer(opts.dir ?? defaultAppFolder(), { port: opts.port });
  } catch (error) {
    err.write(`${messageOf(error)}\n`);
    return 2;
  }
  err.write(`web app: ${server.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((ok) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      err.write(`${signal}: the web app has stopped\n`);
      ok();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await server.close();
  return 0;
}

export function addAppCommand(program: Command): void {
  program
    .command('app')
    .description(`serve the web app (unetflow in a browser, README "In a web browser") on 127.0.0.1 until Ctrl-C; build it first with \`${BUILD_COMMAND}\``)
    .option('--port <port>', `port (0: any free port; default ${APP_PORT})`, portNumber, APP_PORT)
    .option('--dir <folder>', 'serve another build of the app than dist/web')
    .action(async (opts: { port: number; dir?: string }) => {
      process.exitCode = await appCommand(opts, process.stderr);
    });
}
