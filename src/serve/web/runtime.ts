/**
 * What every loader of the browser module shares: its options (providers, where onnxruntime-web's
 * files are, threads, logging, fetch), onnxruntime-web's global wasm settings (set once, before the
 * first session), the choice of providers, and fetching an artifact's bytes.
 */
import { checkProviders, openSession, ort, WEB_EXECUTION_PROVIDERS } from './ort';
import type { WebExecutionProvider, WebLog } from './ort';

/**
 * Most wasm threads used by default: past 4, small decoders gain nothing and the page competes
 * with its own rendering (onnxruntime-web itself defaults to half the cores, capped at 4).
 */
export const DEFAULT_MAX_WASM_THREADS = 4;

/** Options of `loadDecoder`, `loadEncoder` and `loadModel`. */
export interface LoadDecoderOptions {
  /**
   * Providers to try, in order; the first whose session loads is used. 'auto' (default): WebGPU
   * when the browser gives a WebGPU adapter, then wasm.
   */
  executionProviders?: 'auto' | WebExecutionProvider[];
  /**
   * URL prefix (ending in '/') where onnxruntime-web's `ort-wasm-simd-threaded.*` files are
   * served. Needed when a site bundles this module: the bundle no longer sits next to those files.
   */
  wasmPaths?: string;
  /**
   * wasm threads. Default: min(4, hardwareConcurrency) when the page is cross-origin isolated
   * (COOP same-origin + COEP require-corp, needed for SharedArrayBuffer), else 1 with a warning.
   */
  numThreads?: number;
  /** Where notes and warnings go (default: console). */
  log?: WebLog;
  /** fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
}

let configuredThreads: number | undefined;

/** Set onnxruntime-web's global wasm options once, before its first session (later changes are ignored by ort). */
export function configureRuntime(options: LoadDecoderOptions, log: WebLog): number {
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  if (configuredThreads !== undefined) return configuredThreads;
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  let threads = options.numThreads ?? Math.min(DEFAULT_MAX_WASM_THREADS, cores);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (threads > 1 && !isolated) {
    log('warn', `falling back to 1 wasm thread (asked for ${threads}): the page is not cross-origin isolated; serve it with 'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp' for multithreaded wasm`);
    threads = 1;
  }
  ort.env.wasm.numThreads = threads;
  configuredThreads = threads;
  return threads;
}

/**
 * True when the page can get a WebGPU adapter. `navigator.gpu` alone is not enough: Chromium
 * exposes it on secure pages even when the GPU is disabled, and then `requestAdapter()` gives null.
 */
async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = typeof navigator !== 'undefined' ? (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu : undefined;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/** The providers to try, in order, for a loader's `executionProviders` option. */
export async function resolveProviders(choice: LoadDecoderOptions['executionProviders'], log: WebLog): Promise<WebExecutionProvider[]> {
  if (choice === undefined || choice === 'auto') {
    if (await hasWebGpuAdapter()) return ['webgpu', 'wasm'];
    log('info', 'no WebGPU adapter in this browser (navigator.gpu missing or without an adapter): using wasm');
    return ['wasm'];
  }
  if (!Array.isArray(choice)) throw new Error(`aekit-web: executionProviders must be 'auto' or a non-empty list of: ${WEB_EXECUTION_PROVIDERS.join(', ')}`);
  return checkProviders(choice);
}

/**
 * The bytes at `url`.
 * @throws Error naming the URL and the HTTP status.
 */
export async function fetchBytes(url: string, options: Pick<LoadDecoderOptions, 'fetch'>): Promise<Uint8Array> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const response = await doFetch(url);
  if (!response.ok) throw new Error(`aekit-web: fetching ${url} failed: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * An onnxruntime-web session for one artifact, as decoders and encoders open it: wasm threads
 * configured, the execution providers resolved, then tried in order.
 */
export async function openWebSession(bytes: Uint8Array, url: string, options: LoadDecoderOptions, log: WebLog): Promise<{ session: ort.InferenceSession; provider: WebExecutionProvider; threads: number }> {
  const threads = configureRuntime(options, log);
  const providers = await resolveProviders(options.executionProviders, log);
  return { ...(await openSession(bytes, providers, url, log)), threads };
}
