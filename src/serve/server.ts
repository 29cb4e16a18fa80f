/**
 * The live page's HTTP server (hono on node): the page and its assets, the run's state
 * as server-sent events, pages of the file table, and the run's output files and their
 * thumbnails. It only reads: every route is GET (HEAD), and nothing it serves can start,
 * stop or change the run. It takes the run's events as an Observable, so any run that
 * produces the standard events can be shown, and folds them without ever waiting.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { Observable, Subscription } from 'rxjs';
import { assetResponse } from './assets.js';
import { guardAccess, type Access } from './access.js';
import { contentType, ServedFolders } from './files.js';
import { Broadcaster, sseMessage } from './sse.js';
import { RunState, type Delta, type FileRow, type GalleryItem, type ServeEvent, type StateLimits } from './state.js';
import { Thumbnails, type ThumbnailOptions } from './thumbnails.js';

export interface LiveOptions {
  /** Folders whose files the page may link to: the run's output folders. Of their files, only those the run's rows name (outputs, error reports) are served. */
  readonly roots: readonly string[];
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** 0 picks a free port. @default 8080 */
  readonly port?: number;
  /** When set, required to read anything (see access.ts). */
  readonly token?: string;
  readonly limits?: StateLimits;
  /** Messages a page may have waiting before they are dropped. @default 512 */
  readonly clientCapacity?: number;
  readonly thumbnails?: ThumbnailOptions;
  /** Where a failure inside the page's own code is reported; it never reaches the run. */
  readonly onError?: (error: unknown) => void;
}

export interface LiveServer {
  /** http://host:port/ */
  readonly url: string;
  readonly state: RunState;
  readonly broadcaster: Broadcaster;
  readonly thumbnails: Thumbnails;
  /** Stops following the events, ends the pages' streams and closes the server. */
  close(): Promise<void>;
}

/** A row as the page gets it: its output paths also as URLs it may fetch. */
type PageRow = FileRow & { links: Record<string, string>; reportLink?: string };

/** Starts the server on its port, then follows `events`. Rejects when the port cannot be had. */
export async function startLiveServer(events: Observable<ServeEvent>, options: LiveOptions): Promise<LiveServer> {
  const state = new RunState(options.limits);
  // Only what the rows name: an output folder may also hold a pipeline file, inputs or a ledger kept beside them.
  const folders = new ServedFolders(options.roots, (path) => state.names(path));
  const thumbnails = new Thumbnails(options.thumbnails);
  const link = (path: string) => folders.urlPath(path);
  const present = (row: FileRow): PageRow => {
    const links: Record<string, string> = {};
    for (const [name, path] of Object.entries(row.outputs)) {
      const url = link(path);
      if (url) links[name] = url;
    }
    const reportLink = row.report ? link(row.report) : undefined;
    return { ...row, links, ...(reportLink ? { reportLink } : {}) };
  };
  const presentItem = (item: GalleryItem) => ({ ...item, link: link(item.path) });
  const snapshot = () => {
    const s = state.snapshot();
    return sseMessage('snapshot', { ...s, gallery: s.gallery.map(presentItem), rows: state.page(0, PAGE_ROWS).rows.map(present) });
  };
  const broadcaster = new Broadcaster(snapshot, options.clientCapacity);
  const onError = options.onError ?? (() => {});
  const app = createApp({ state, folders, thumbnails, broadcaster, present, access: { token: options.token, host: options.host ?? '127.0.0.1' } });

  const host = options.host ?? '127.0.0.1';
  const server = await listen(app, host, options.port ?? 8080);
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  const send = (delta: Delta) => {
    if (delta.kind === 'file') broadcaster.broadcast('file', { ...delta, row: present(delta.row), ...(delta.gallery ? { gallery: presentItem(delta.gallery) } : {}) });
    else broadcaster.broadcast(delta.kind, delta);
  };
  const subscription: Subscription = events.subscribe({
    next: (event) => {
      // Whatever goes wrong here stays here: the run this follows must not notice.
      try {
        for (const delta of state.apply(event)) send(delta);
      } catch (error) {
        onError(error);
      }
    },
    // The run reports its own end (run-failed); a source that fails otherwise (the ledger unreadable) is shown as failed.
    error: (error: unknown) => {
      if (state.run.status !== 'failed') for (const delta of state.apply({ type: 'source', state: 'failed', message: (error as Error)?.message ?? String(error) })) send(delta);
    },
  });

  return {
    url: `http://${shownHost}:${address.port}/`,
    state,
    broadcaster,
    thumbnails,
    close: async () => {
      subscription.unsubscribe();
      // The pages' streams end once they have written what is queued (the run's last events);
      // a page that does not take them within a second is cut off.
      broadcaster.closeAll();
      await new Promise<void>((resolve) => {
        const cut = setTimeout(() => (server as { closeAllConnections?: () => void }).closeAllConnections?.(), 1000);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
      });
    },
  };
}

/** Rows per page of the file table. */
export const PAGE_ROWS = 50;

interface AppParts {
  state: RunState;
  folders: ServedFolders;
  thumbnails: Thumbnails;
  broadcaster: Broadcaster;
  present: (row: FileRow) => PageRow;
  access: Access;
}

function createApp({ state, folders, thumbnails, broadcaster, present, access }: AppParts): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    // Read-only: no route accepts anything but GET and HEAD.
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return c.text('read-only: only GET and HEAD\n', 405, { Allow: 'GET, HEAD' });
    const refused = guardAccess(c, access);
    if (refused) return refused;
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Content-Security-Policy', "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  });

  app.get('/', () => assetResponse('index.html'));
  app.get('/assets/:name', (c) => assetResponse(c.req.param('name')));
  app.get('/events', () => new Response(broadcaster.stream(), { headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' } }));
  app.get('/api/files', (c) => {
    const offset = boundedInt(c.req.query('offset'), 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = boundedInt(c.req.query('limit'), 1, 500, PAGE_ROWS);
    const filter = c.req.query('status') === 'failed' ? 'failed' : 'all';
    const { rows, total } = state.page(offset, limit, filter);
    return c.json({ offset, limit, total, rows: rows.map(present) }, 200, { 'Cache-Control': 'no-store' });
  });
  app.get('/files/*', async (c) => {
    const file = await folders.resolve(rest(c, '/files/'));
    if (!file) return notFound(c);
    const body = Readable.toWeb(createReadStream(file.path)) as ReadableStream<Uint8Array>;
    return new Response(c.req.method === 'HEAD' ? null : body, {
      headers: { 'Content-Type': contentType(file.path), 'Content-Length': String(file.size), 'Cache-Control': 'no-cache', 'Content-Disposition': 'inline' },
    });
  });
  app.get('/thumbs/*', async (c) => {
    const file = await folders.resolve(rest(c, '/thumbs/'));
    if (!file) return notFound(c);
    try {
      const webp = await thumbnails.get(file);
      return new Response(new Uint8Array(webp), { headers: { 'Content-Type': 'image/webp', 'Cache-Control': 'no-cache' } });
    } catch {
      return c.text('no thumbnail: not an image sharp can read\n', 404);
    }
  });
  app.notFound(notFound);
  return app;
}

function notFound(c: Context): Response {
  return c.text('not found\n', 404);
}

/** The request's path after `prefix`, still percent-encoded, exactly as the client sent it. */
function rest(c: Context, prefix: string): string {
  const url = c.req.url;
  const start = url.indexOf('/', url.indexOf('://') + 3);
  const path = url.slice(start).split(/[?#]/)[0];
  return path.startsWith(prefix) ? path.slice(prefix.length) : '';
}

function boundedInt(value: string | undefined, min: number, max: number, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

function listen(app: Hono, hostname: string, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, () => {
      server.off('error', onError);
      resolve(server);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? `port ${port} is in use on ${hostname}: give another with --serve PORT` : error.code === 'EADDRNOTAVAIL' ? `${hostname} is not an address of this machine` : error.message;
      reject(new Error(`live page: cannot listen on ${hostname}:${port}: ${why}`, { cause: error }));
    };
    server.once('error', onError);
  });
}
