/**
 * The demo page: one HTML shell for `aekit serve`'s `/` and for the `index.html` of a static export
 * (`aekit export --web`). It maps `onnxruntime-web` to the page's own copy (no CDN) and mounts the
 * web module's `mountDemo`, which does the rest in the browser: draw or drop an image, watch its
 * reconstruction, move through the latent space, sample with a seed. A static export's URLs are
 * all relative, so it works from any folder of any static host.
 *
 * `window.aekitDemo` is the demo's handle (state, model, last results); `document.body.dataset.state`
 * is `loading`, `ready` or `error`.
 */
import { ORT_URL_PREFIX, ORT_WEB_ENTRY, WEB_MODULE_URL } from './static-files';

/** Where the page finds its parts: paths on the server (the defaults) or relative to the page (a static export). */
export interface DemoPageOptions {
  /** The model list: `/v1/models` (the server's, default) or `manifest.json` (a static export's). */
  models?: string;
  /** Folder of onnxruntime-web's files (default `/ort/`). */
  ortFolder?: string;
  /** aekit's web module (default `/web/aekit-web.js`). */
  webModule?: string;
  /** Page title and heading (default "aekit demo"). */
  title?: string;
  /** A script loaded first that makes the page cross-origin isolated through a service worker (static exports on hosts without COOP/COEP). */
  isolationScript?: string;
}

/** The tab icon, inline: a page that asks for `/favicon.ico` logs a 404 on hosts that have none. */
const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1f5fd1"/><circle cx="11" cy="16" r="6" fill="none" stroke="#fff" stroke-width="3"/><path d="M19 10h8M19 16h6M19 22h8" stroke="#fff" stroke-width="3"/></svg>`;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A URL as an import map or `import()` takes it: absolute and `/`, `./`, `../` paths as they are, a bare relative path with `./`. */
const importable = (url: string): string => (/^(\/|\.\.?\/|[a-z][a-z0-9+.-]*:)/i.test(url) ? url : `./${url}`);

/** The page's HTML. */
export function demoPageHtml(options: DemoPageOptions = {}): string {
  const models = options.models ?? '/v1/models';
  const ortFolder = options.ortFolder ?? ORT_URL_PREFIX;
  const webModule = importable(options.webModule ?? WEB_MODULE_URL);
  const title = escapeHtml(options.title ?? 'aekit demo');
  const importMap = JSON.stringify({ imports: { 'onnxruntime-web': importable(`${ortFolder}${ORT_WEB_ENTRY}`) } });
  const config = JSON.stringify({ models, wasmPaths: ortFolder });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<meta name="description" content="A generative model running in your browser: draw a digit and watch its reconstruction, walk the latent space, sample with a seed.">
<link rel="icon" href="data:image/svg+xml,${encodeURIComponent(ICON_SVG)}">
${options.isolationScript ? `<script src="${escapeHtml(options.isolationScript)}"></script>\n` : ''}<script type="importmap">${importMap}</script>
<style>
  body { margin: 0 auto; max-width: 76rem; padding: 1rem 1rem 2rem; background: #f2f4f7; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2026; }
  header h1 { font-size: 1.4rem; margin: .2rem 0; }
  header p, footer { color: #555d69; margin: 0 0 1rem; font-size: 14px; }
  footer { margin-top: 1.5rem; }
</style>
</head>
<body data-state="loading">
<header>
<h1>${title}</h1>
<p>The model runs in this browser with onnxruntime-web (WebGPU when available, else WebAssembly); nothing you draw leaves the page.</p>
</header>
<main id="demo"><noscript>This demo needs JavaScript: the model runs in the page.</noscript></main>
<footer>Made with aekit: train, export to ONNX, evaluate and serve autoencoders in TypeScript.</footer>
<script type="module">
const config = ${config};
// The static export's isolation shim may reload the page first (see coi-serviceworker.js); the
// module is imported after it, so a reload cuts off no download.
if (window.aekitIsolation) config.isolation = await window.aekitIsolation;
const { mountDemo } = await import('${webModule}');
window.aekitDemo = mountDemo(document.getElementById('demo'), { ...config, onState: (state) => { document.body.dataset.state = state; } });
</script>
</body>
</html>
`;
}
