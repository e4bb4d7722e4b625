/**
 * aekit's browser module (built to `dist/web/aekit-web.js`): load an exported decoder with
 * onnxruntime-web, decode or sample latents, draw the images on a canvas. Every number it needs
 * (latent size, classes, image shape, value range) comes from the artifact's own metadata.
 *
 * `onnxruntime-web` stays an external import: a page maps it with an import map (what `aekit serve`'s
 * demo page does), a bundler resolves it from node_modules. Either way onnxruntime-web fetches its
 * `.wasm`/`.mjs` files at run time from `wasmPaths` (default: next to its own module file).
 */
import { checkProviders, defaultLog, openSession, ort, WEB_EXECUTION_PROVIDERS } from './ort';
import type { WebExecutionProvider, WebLog } from './ort';
import { toPixelByte } from './image-math';
import { DECODING_PARTS, describeArtifact, summarizeModel } from '../../artifact/info';
import type { ArtifactInfo, ModelSummary } from '../../artifact/info';
import { validateMetadata } from '../../artifact/metadata';
import type { ArtifactMetadata } from '../../artifact/metadata';
import { drawLatents, MAX_SEED } from '../../artifact/prior';
import type { ValueRange } from '../../data/types';
import { readAekitMetadata } from '../../artifact/metadata-bytes';

export { toPixelByte, toUnitInterval } from './image-math';
export { normalSamples } from '../../artifact/prior';
export { VALUE_RANGES } from '../../data/types';
export type { ValueRange } from '../../data/types';
export { readAekitMetadata } from '../../artifact/metadata-bytes';
export { describeArtifact, summarizeModel } from '../../artifact/info';
export type { ArtifactInfo, ModelSummary } from '../../artifact/info';
export { loadTrainer } from './fine-tune';
export type { FineTuneStepOptions, LoadTrainerOptions, Trainer, TrainStepManifest } from './fine-tune';

export { WEB_EXECUTION_PROVIDERS } from './ort';
export type { WebExecutionProvider, WebLog } from './ort';

/**
 * Most wasm threads used by default: past 4, small decoders gain nothing and the page competes
 * with its own rendering (onnxruntime-web itself defaults to half the cores, capped at 4).
 */
export const DEFAULT_MAX_WASM_THREADS = 4;

/** Options of {@link loadDecoder}. */
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

/** A batch of decoded images: NCHW float32 in the artifact's value range. */
export interface ImageBatch {
  data: Float32Array;
  shape: [number, number, number, number];
  valueRange: ValueRange;
}

/** Labels for a conditional decoder: one class for every row, or one per row. */
export interface LabelOption {
  label?: number | number[];
}

/** A loaded decoder: the model's facts (the artifact layer's `ModelSummary`, as the server lists them) and its operations. */
export interface Decoder extends ModelSummary {
  /** Everything the artifact layer derives from the artifact's metadata. */
  readonly info: ArtifactInfo;
  /** Every `aekit.*` field of the artifact. */
  readonly metadata: ArtifactMetadata;
  /** The provider whose session loaded. */
  readonly executionProvider: WebExecutionProvider;
  /** wasm threads onnxruntime-web runs with. */
  readonly threads: number;
  /** Decode latents: one row (`number[]`), rows (`number[][]`) or a flat row-major Float32Array. */
  decode(z: number[] | number[][] | Float32Array, options?: LabelOption): Promise<ImageBatch>;
  /** Decode `n` latents drawn from the artifact's prior with `seed` (random when left out; returned); only when {@link canSample}. */
  sample(n: number, seed?: number, options?: LabelOption): Promise<ImageBatch & { z: Float32Array; seed: number }>;
  /** Free the session. */
  release(): Promise<void>;
}

let configuredThreads: number | undefined;

/** Set onnxruntime-web's global wasm options once, before its first session (later changes are ignored by ort). */
function configureRuntime(options: LoadDecoderOptions, log: NonNullable<LoadDecoderOptions['log']>): number {
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

async function resolveProviders(choice: LoadDecoderOptions['executionProviders'], log: NonNullable<LoadDecoderOptions['log']>): Promise<WebExecutionProvider[]> {
  if (choice === undefined || choice === 'auto') {
    if (await hasWebGpuAdapter()) return ['webgpu', 'wasm'];
    log('info', 'no WebGPU adapter in this browser (navigator.gpu missing or without an adapter): using wasm');
    return ['wasm'];
  }
  if (!Array.isArray(choice)) throw new Error(`aekit-web: executionProviders must be 'auto' or a non-empty list of: ${WEB_EXECUTION_PROVIDERS.join(', ')}`);
  return checkProviders(choice);
}

/** Validate the metadata and describe the artifact as a decoder; errors name the URL and the field. */
function decoderInfo(metadata: Record<string, unknown>, url: string): ArtifactInfo & { latentInput: { name: string; size: number }; imageOutput: string } {
  const fail = (what: string): never => {
    throw new Error(`aekit-web: ${url}: ${what}`);
  };
  if (Object.keys(metadata).length === 0) fail('no aekit metadata; export the model with `aekit export`');
  let info: ArtifactInfo;
  try {
    info = describeArtifact(validateMetadata(metadata, url, 'BAD_DATA'), { where: url });
  } catch (error) {
    return fail((error as Error).message.replace(`${url}: `, ''));
  }
  if (!DECODING_PARTS.includes(info.part)) fail(`artifact part is '${info.part}', expected a decoder or generator`);
  if (info.label && info.label.encoding !== 'one-hot') fail(`label encoding '${info.label.encoding}' is not supported (expected 'one-hot')`);
  if (!info.latentInput) fail("metadata 'inputs' has no [batch, latentSize] latent input");
  if (!info.imageOutput) fail("metadata 'outputs' has no NCHW image output");
  return info as ArtifactInfo & { latentInput: { name: string; size: number }; imageOutput: string };
}

/** Rows of latents as one flat Float32Array, checked against the latent size. */
function latentRows(z: number[] | number[][] | Float32Array, latentSize: number): Float32Array {
  let flat: Float32Array;
  if (z instanceof Float32Array) {
    flat = z;
  } else if (Array.isArray(z) && z.length > 0 && Array.isArray(z[0])) {
    const rows = z as number[][];
    flat = new Float32Array(rows.length * latentSize);
    rows.forEach((row, r) => {
      if (!Array.isArray(row) || row.length !== latentSize) throw new Error(`aekit-web: z[${r}] has ${Array.isArray(row) ? row.length : 'no'} values, expected ${latentSize} (the latent size)`);
      flat.set(row, r * latentSize);
    });
  } else {
    flat = Float32Array.from(z as number[]);
  }
  if (flat.length === 0 || flat.length % latentSize !== 0) throw new Error(`aekit-web: z has ${flat.length} values, expected a multiple of ${latentSize} (the latent size)`);
  const bad = flat.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`aekit-web: z value ${bad} is ${flat[bad]}, expected a finite number`);
  return flat;
}

function oneHotLabels(label: LabelOption['label'], rows: number, numClasses: number): Float32Array {
  if (label === undefined) throw new Error(`aekit-web: this decoder is conditional: pass { label } (0 .. ${numClasses - 1})`);
  const labels = Array.isArray(label) ? label : new Array<number>(rows).fill(label);
  if (labels.length !== rows) throw new Error(`aekit-web: ${labels.length} labels for ${rows} rows of z`);
  const out = new Float32Array(rows * numClasses);
  labels.forEach((l, r) => {
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) throw new Error(`aekit-web: label ${l} is outside 0 .. ${numClasses - 1}`);
    out[r * numClasses + l] = 1;
  });
  return out;
}

/**
 * Load a decoder artifact from `url` and open an onnxruntime-web session on the first execution
 * provider that works (failures of the others are logged, and all are reported if none works).
 */
export async function loadDecoder(url: string, options: LoadDecoderOptions = {}): Promise<Decoder> {
  const log = options.log ?? defaultLog;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const response = await doFetch(url);
  if (!response.ok) throw new Error(`aekit-web: fetching ${url} failed: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  let metadata: Record<string, unknown>;
  try {
    metadata = readAekitMetadata(bytes);
  } catch (error) {
    throw new Error(`aekit-web: ${url} is not an ONNX model (${(error as Error).message})`);
  }
  const info = decoderInfo(metadata, url);
  let summary: ModelSummary;
  try {
    summary = summarizeModel(info, url);
  } catch (error) {
    throw new Error(`aekit-web: ${(error as Error).message}`);
  }
  const threads = configureRuntime(options, log);
  const providers = await resolveProviders(options.executionProviders, log);
  const { session, provider } = await openSession(bytes, providers, url, log);
  log('info', `${url}: ${info.family} decoder on ${provider}${provider === 'wasm' ? ` (${threads} thread${threads === 1 ? '' : 's'})` : ''}`);
  const opened = session;
  const { channels, height, width } = summary.imageShape;
  const latentSize = info.latentInput.size;

  const decode = async (z: number[] | number[][] | Float32Array, opts: LabelOption = {}): Promise<ImageBatch> => {
    const flat = latentRows(z, latentSize);
    const rows = flat.length / latentSize;
    const feeds: Record<string, ort.Tensor> = { [info.latentInput.name]: new ort.Tensor('float32', flat, [rows, latentSize]) };
    if (info.label) feeds[info.label.input] = new ort.Tensor('float32', oneHotLabels(opts.label, rows, info.label.numClasses), [rows, info.label.numClasses]);
    else if (opts.label !== undefined) throw new Error('aekit-web: this decoder is not conditional; leave out label');
    const results = await opened.run(feeds);
    const out = results[info.imageOutput];
    const data = (await out.getData()) as Float32Array;
    return { data: Float32Array.from(data), shape: [rows, channels, height, width], valueRange: info.valueRange };
  };

  return {
    ...summary,
    info,
    metadata: info.metadata,
    executionProvider: provider,
    threads,
    decode,
    async sample(n: number, seed?: number, opts: LabelOption = {}) {
      if (!Number.isInteger(n) || n < 1) throw new Error(`aekit-web: sample(n) needs a positive whole n, got ${n}`);
      const usedSeed = seed ?? Math.floor(Math.random() * MAX_SEED);
      if (!Number.isInteger(usedSeed) || usedSeed < 0 || usedSeed > MAX_SEED) throw new Error(`aekit-web: seed must be a whole number in 0 .. ${MAX_SEED}, got ${seed}`);
      if (!info.canSample) throw new Error(`aekit-web: this ${info.family} ${info.part} cannot be sampled: ${info.whyNoSample}; use decode() with your own z`);
      const z = drawLatents(info, n, usedSeed);
      const images = await decode(z, opts);
      return { ...images, z, seed: usedSeed };
    },
    async release() {
      await opened.release();
    },
  };
}

/** Options of {@link drawImages}. */
export interface DrawOptions {
  /** Images per row (default: ceil(sqrt(n))). */
  columns?: number;
  /** Gap between images in pixels (default 0 for one image, 2 otherwise). */
  padding?: number;
  /** Gap colour, 0-255 grey (default 255). */
  background?: number;
}

/** RGBA bytes (height x width x 4) of image `index` of a batch, with the artifact's value mapping. */
export function imageRgba(images: ImageBatch, index = 0): Uint8ClampedArray<ArrayBuffer> {
  const [, channels, height, width] = images.shape;
  const plane = height * width;
  const base = index * channels * plane;
  const rgba = new Uint8ClampedArray(new ArrayBuffer(plane * 4));
  for (let p = 0; p < plane; p++) {
    const r = toPixelByte(images.data[base + p], images.valueRange);
    rgba[p * 4] = r;
    rgba[p * 4 + 1] = channels >= 3 ? toPixelByte(images.data[base + plane + p], images.valueRange) : r;
    rgba[p * 4 + 2] = channels >= 3 ? toPixelByte(images.data[base + 2 * plane + p], images.valueRange) : r;
    rgba[p * 4 + 3] = 255;
  }
  return rgba;
}

/**
 * Draw a batch as a grid at native resolution (one canvas pixel per image pixel; scale it up
 * with CSS `width` and `image-rendering: pixelated`). Resizes the canvas to fit.
 */
export function drawImages(canvas: HTMLCanvasElement | OffscreenCanvas, images: ImageBatch, options: DrawOptions = {}): void {
  const [count, , height, width] = images.shape;
  const columns = Math.max(1, options.columns ?? Math.ceil(Math.sqrt(count)));
  const rows = Math.ceil(count / columns);
  const padding = options.padding ?? (count === 1 ? 0 : 2);
  canvas.width = columns * width + (columns - 1) * padding;
  canvas.height = rows * height + (rows - 1) * padding;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) throw new Error('aekit-web: the canvas has no 2d context');
  const bg = options.background ?? 255;
  ctx.fillStyle = `rgb(${bg}, ${bg}, ${bg})`;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let n = 0; n < count; n++) {
    const image = new ImageData(imageRgba(images, n), width, height);
    ctx.putImageData(image, (n % columns) * (width + padding), Math.floor(n / columns) * (height + padding));
  }
}
