/**
 * The app's service worker: after one load the app works with no network. At install it
 * keeps the app's files and the model (the build's precache.json lists them); then every
 * same-origin GET is kept as it is fetched. The page, its scripts and the pipelines are
 * asked of the network first (a new build shows on the next load) and taken from the
 * cache when there is none; large files that do not change between loads (ONNX Runtime's
 * wasm, the model's weights) come from the cache first. Cached answers keep their
 * headers, so an offline page is still cross-origin isolated (COOP/COEP).
 */

// This file is built for a service worker's global scope; the project's TypeScript has
// only the DOM library (whose `self` is a Window), so the few names used are declared here.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface WorkerScope {
  readonly location: Location;
  readonly registration: { readonly scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
}
const worker = self as unknown as WorkerScope;

/** Bumped when what is cached changes shape; old caches of this app are deleted on activation. */
const CACHE = 'unetflow-app-1';
const PREFIX = 'unetflow-app-';
const SHELL = ['./', 'index.html', 'page.js', 'page.css', 'worker.js', 'favicon.svg', 'pipelines/index.json', 'pipelines/demo.yaml'];
/** Files asked of the network first: small, and they change with each build. */
const NETWORK_FIRST = /(\/|\.html|\.css|\.json|\.ya?ml|\/page\.js|\/worker\.js)$/i;

worker.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const listed = await fetch(new URL('precache.json', worker.registration.scope))
        .then(async (r) => (r.ok ? ((await r.json()) as unknown) : []))
        .catch(() => []);
      const urls = [...SHELL, ...(Array.isArray(listed) ? listed.filter((u): u is string => typeof u === 'string') : [])];
      // One missing file (a build without pipelines/index.json) must not lose the rest.
      await Promise.all(urls.map((url) => cache.add(new URL(url, worker.registration.scope)).catch(() => undefined)));
      await worker.skipWaiting();
    })(),
  );
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      await worker.clients.claim();
    })(),
  );
});

worker.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== worker.location.origin || request.headers.has('range')) return;
  event.respondWith(NETWORK_FIRST.test(url.pathname) || request.mode === 'navigate' ? networkFirst(request) : cacheFirst(request));
});

async function networkFirst(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
