/// <reference lib="dom" />
/** The service worker (src/web/service-worker.ts) that keeps the app and its model for use with no network. */

export async function registerServiceWorker(): Promise<ServiceWorkerRegistration | undefined> {
  if (!('serviceWorker' in navigator)) return undefined;
  try {
    return await navigator.serviceWorker.register('service-worker.js', { scope: './' });
  } catch (error) {
    // The page still works online; only the offline copy is missing.
    console.warn(`unetflow: no offline copy (${(error as Error).message})`);
    return undefined;
  }
}
