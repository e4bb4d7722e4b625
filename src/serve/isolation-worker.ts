/**
 * The optional cross-origin isolation shim of a static export (`aekit export --web <dir> --coi`),
 * in the manner of coi-serviceworker (Guido Zuidhof, MIT): on hosts that cannot send COOP/COEP
 * headers (GitHub Pages), a service worker re-serves the site's own responses with them, so the
 * page becomes cross-origin isolated and onnxruntime-web can run wasm on several threads.
 *
 * One file plays both parts: loaded by the page (a classic `<script>`), it registers itself as the
 * service worker and reloads the page once the worker controls it; run as the worker, it adds the
 * headers. Written from scratch for aekit; it never fetches anything but the site's own requests.
 */

/** The script's file name in the export. */
export const ISOLATION_WORKER_FILE = 'coi-serviceworker.js';

/** The script (plain ES2017, no imports: it runs as a page script and as a service worker). */
export const ISOLATION_WORKER_JS = `/* aekit: cross-origin isolation through a service worker (see aekit's README, "The demo on static hosting"). */
if (typeof window === 'undefined') {
  self.addEventListener('install', () => self.skipWaiting());
  self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
  self.addEventListener('fetch', (event) => {
    const request = event.request;
    // A request the browser may only answer from its cache cannot be re-fetched here.
    if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
    event.respondWith(
      fetch(request).then((response) => {
        if (response.status === 0) return response;
        const headers = new Headers(response.headers);
        headers.set('Cross-Origin-Opener-Policy', 'same-origin');
        headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
        headers.set('Cross-Origin-Resource-Policy', 'same-origin');
        return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
      }),
    );
  });
} else {
  // The page waits for this before loading the model: when the worker reloads the page, loading
  // first would only be cut off.
  window.aekitIsolation = new Promise((resolve) => {
    const once = 'aekit-coi-reloaded';
    if (window.crossOriginIsolated) {
      sessionStorage.removeItem(once);
      return resolve('isolated');
    }
    if (!window.isSecureContext || !('serviceWorker' in navigator)) return resolve('unavailable: service workers need https or localhost');
    // Reloaded once already and still not isolated: the browser or host refuses; run on one thread.
    if (sessionStorage.getItem(once)) return resolve('refused');
    const reload = () => {
      sessionStorage.setItem(once, '1');
      location.reload();
    };
    navigator.serviceWorker.register(document.currentScript.src).then(
      (registration) => {
        if (navigator.serviceWorker.controller) return resolve('refused');
        // Active but not in control (a hard reload bypasses workers): reload into it.
        if (registration.active) return reload();
        navigator.serviceWorker.addEventListener('controllerchange', reload);
      },
      (error) => {
        console.warn('aekit: the cross-origin isolation service worker did not register (' + error.message + '); wasm runs on one thread');
        resolve('failed');
      },
    );
  });
}
`;
