/**
 * The page the browser rows run in, and the small server that hands it out with the artifact,
 * onnxruntime-web's files and aekit's web module. File serving, MIME types and the cross-origin
 * isolation headers (needed for multithreaded wasm) are src/serve's (static-files.ts); this file
 * only adds the bench page and its routes.
 *
 * The page exposes `window.aekitBench` (open, setInputs, run, close). Decoders and generators run
 * through the web module's `loadDecoder`/`decode`, exactly as a web page embedding aekit would;
 * other parts (encoders, classifiers) and models from other tools have no web-module API, so the
 * page opens an onnxruntime-web session itself with the same settings. Inputs arrive in their own
 * element types (int64 as BigInt64Array, bool as bytes, float16 as its bits in a Uint16Array);
 * outputs go back as numbers, as the Node workers send them (dtypes.ts numericOutput), converted
 * after the clock stops.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ISOLATION_HEADERS, ORT_URL_PREFIX, ORT_WEB_ENTRY, WEB_MODULE_FILE, WEB_MODULE_URL, listOrtFiles, ortWebDist, sendFile } from '../serve/static-files';

/** URL of the artifact under test. */
export const BENCH_MODEL_URL = '/model.onnx';

/** The bench page's HTML: an import map for onnxruntime-web and the page-side runner. */
export function benchPageHtml(): string {
  const importMap = JSON.stringify({ imports: { 'onnxruntime-web': `${ORT_URL_PREFIX}${ORT_WEB_ENTRY}` } });
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>aekit bench</title><script type="importmap">${importMap}</script></head>
<body data-state="loading">
<script type="module">
import * as ort from 'onnxruntime-web';
import { loadDecoder } from '${WEB_MODULE_URL}';

const state = { decoder: null, session: null, inputs: new Map(), peakHeap: 0, baselineHeap: 0 };

// IEEE half bits -> number (Chromium may or may not hand float16 out as a Float16Array).
function halfValue(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
function numeric(type, data) {
  if (type === 'float32') return data;
  if (type === 'float16') return data instanceof Uint16Array ? Float32Array.from(data, halfValue) : Float32Array.from(data);
  return Float64Array.from(data, Number);
}
const heap = () => (performance.memory ? performance.memory.usedJSHeapSize : 0);
const track = () => { state.peakHeap = Math.max(state.peakHeap, heap()); };

async function adapterDetail(ep) {
  if (ep !== 'webgpu') return 'wasm';
  if (!navigator.gpu) throw Object.assign(new Error('navigator.gpu is missing (WebGPU not enabled in this browser)'), { unavailable: true });
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw Object.assign(new Error('navigator.gpu.requestAdapter() returned null (no WebGPU adapter)'), { unavailable: true });
  const info = adapter.info ?? {};
  // Without shader-f16, float16 models run on emulation paths: say so next to their agreement.
  const f16 = adapter.features.has('shader-f16') ? 'shader-f16' : 'no shader-f16';
  return 'WebGPU adapter: ' + [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') + ' (' + f16 + ')';
}

window.aekitBench = {
  async open({ ep, threads, useWebModule, modelUrl, wasmPaths }) {
    state.baselineHeap = heap();
    let detail;
    try {
      detail = await adapterDetail(ep);
    } catch (error) {
      return { status: 'unavailable', reason: error.message };
    }
    const warnings = [];
    const log = (level, message) => { if (level === 'warn') warnings.push(message); };
    const start = performance.now();
    let usedThreads = null;
    if (useWebModule) {
      state.decoder = await loadDecoder(modelUrl, { executionProviders: [ep], numThreads: threads, wasmPaths, log });
      usedThreads = ep === 'wasm' ? state.decoder.threads : null;
    } else {
      ort.env.wasm.wasmPaths = wasmPaths;
      ort.env.wasm.numThreads = crossOriginIsolated ? threads : 1;
      const bytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
      state.session = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' });
      usedThreads = ep === 'wasm' ? ort.env.wasm.numThreads : null;
    }
    const creationMs = performance.now() - start;
    track();
    detail += (useWebModule ? ', aekit-web loadDecoder' : ', onnxruntime-web session') + (warnings.length ? ' (' + warnings.join('; ') + ')' : '');
    return { status: 'ready', creationMs, threads: usedThreads, detail };
  },
  setInputs(batch, feeds, labelName, zName) {
    if (state.decoder) {
      const z = feeds[zName].data;
      let label;
      if (labelName) {
        const oneHot = feeds[labelName];
        const classes = oneHot.dims[1];
        label = Array.from({ length: batch }, (_, r) => oneHot.data.subarray(r * classes, (r + 1) * classes).indexOf(1));
      }
      state.inputs.set(batch, { z, label });
    } else {
      state.inputs.set(batch, Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, f])));
    }
  },
  async run(batch, keepOutputs, outputName) {
    const input = state.inputs.get(batch);
    let raw;
    const start = performance.now();
    if (state.decoder) {
      const images = await state.decoder.decode(input.z, input.label === undefined ? {} : { label: input.label });
      raw = { [outputName]: { type: 'float32', data: images.data, dims: images.shape } };
    } else {
      const feeds = {};
      for (const [name, f] of Object.entries(input)) feeds[name] = new ort.Tensor(f.dtype, f.data, f.dims);
      const results = await state.session.run(feeds);
      raw = {};
      for (const name of state.session.outputNames) raw[name] = { type: results[name].type, data: await results[name].getData(), dims: [...results[name].dims] };
    }
    const ms = performance.now() - start;
    track();
    if (!keepOutputs) return { ms };
    const outputs = {};
    for (const [name, r] of Object.entries(raw)) outputs[name] = { data: numeric(r.type, r.data), dims: r.dims };
    return { ms, outputs };
  },
  async close() {
    if (state.decoder) await state.decoder.release();
    if (state.session) await state.session.release();
    return performance.memory ? { kind: 'js-heap', peakBytes: state.peakHeap, baselineBytes: state.baselineHeap } : null;
  },
};
document.body.dataset.state = 'ready';
</script>
</body>
</html>`;
}

/** A running bench page server. */
export interface BenchPageServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  close(): Promise<void>;
}

/**
 * Serve the bench page, the artifact, onnxruntime-web's files and aekit's web module on
 * 127.0.0.1 (an ephemeral port), every response cross-origin isolated.
 */
export async function startBenchPageServer(artifactPath: string, webModuleFile = WEB_MODULE_FILE): Promise<BenchPageServer> {
  const ortFiles = await listOrtFiles();
  const ortDir = ortWebDist();
  const server: Server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const send = (file: string) =>
      sendFile(res, file, { ...ISOLATION_HEADERS }).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
    if (pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', ...ISOLATION_HEADERS });
      return void res.end(benchPageHtml());
    }
    if (pathname === BENCH_MODEL_URL) return void send(artifactPath);
    if (pathname === WEB_MODULE_URL) return void send(webModuleFile);
    if (pathname === `${WEB_MODULE_URL}.map`) return void send(`${webModuleFile}.map`);
    if (pathname.startsWith(ORT_URL_PREFIX) && ortFiles.has(pathname.slice(ORT_URL_PREFIX.length))) {
      return void send(path.join(ortDir, pathname.slice(ORT_URL_PREFIX.length)));
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
