/**
 * Fine-tuning in the browser: load a bundle written by `aekit export <run> --part train-step`
 * (src/train/engines/ort/web-bundle.ts) and run its training step (forward, loss, gradients,
 * clipping and Adam, all in one ONNX graph) on onnxruntime-web. The page only feeds batches; the
 * parameters, BatchNorm statistics and Adam moments stay in this module between steps.
 *
 * Re-exported by ./aekit-web.ts, so it ships in `dist/web/aekit-web.js` with `onnxruntime-web` as
 * an external import (see there).
 */
import { TRAIN_STEP_FILES, TRAIN_STEP_FORMAT, TRAIN_STEP_VERSION } from '../../artifact/train-step-format';
import type { TrainStepManifest, TrainStepNoise, TrainStepTensor } from '../../artifact/train-step-format';
import { checkProviders, defaultLog, openSession, ort } from './ort';
import type { WebExecutionProvider, WebLog } from './ort';
import { MAX_SEED, normalSamples, uniformSamples } from '../../artifact/prior';

export type { TrainStepManifest, TrainStepNoise, TrainStepTensor, TrainStepTensorRole } from '../../artifact/train-step-format';

/** Options of {@link loadTrainer}. */
export interface LoadTrainerOptions {
  /**
   * Providers to try, in order; the first whose session loads is used. Default `['wasm']`: its
   * float32 kernels give the numbers `aekit train --engine ort` gives; ask for `['webgpu', 'wasm']`
   * to train on the GPU where the browser has one.
   */
  executionProviders?: WebExecutionProvider[];
  /** URL prefix (ending in '/') of onnxruntime-web's `.wasm`/`.mjs` files (as `loadDecoder`'s). */
  wasmPaths?: string;
  /**
   * wasm threads, set before onnxruntime-web's first session (it reads the setting once). Default:
   * onnxruntime-web's own (1 unless the page is cross-origin isolated).
   */
  numThreads?: number;
  /** Where notes and warnings go (default: console). */
  log?: WebLog;
  /** fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
}

/** Options of one {@link Trainer.step}. */
export interface FineTuneStepOptions {
  /**
   * Noise by the manifest's input names (`manifest.noise`), laid out as each entry's `drawShape`.
   * Inputs left out are drawn from `seed`.
   */
  noise?: Record<string, Float32Array>;
  /** Seed of the noise drawn here (default: random). */
  seed?: number;
  /** Class of every image (conditional families and the classifier). */
  labels?: ArrayLike<number>;
  /** Learning rate of this step (default: the manifest's). */
  learningRate?: number;
}

/** A loaded fine-tuning step. */
export interface Trainer {
  readonly manifest: TrainStepManifest;
  /** The provider whose session loaded. */
  readonly executionProvider: WebExecutionProvider;
  /** Images every step takes. */
  readonly batchSize: number;
  /** Adam updates applied so far (the run's, then this page's). */
  readonly stepCount: number;
  /**
   * One training step on `images` (NHWC float32 in [0, 1], `batchSize` images). Returns the loss
   * terms and `gradNorm`. A step whose loss or gradient norm is not finite is not applied, and
   * throws; the trainer keeps the last good state.
   */
  step(images: Float32Array, options?: FineTuneStepOptions): Promise<Record<string, number>>;
  /** Current weights (trained parameters, BatchNorm statistics, frozen weights) by name, as copies. */
  parameters(): Record<string, Float32Array>;
  /** Free the session. */
  release(): Promise<void>;
}

/** A bundle file's URL: `name` next to the manifest. Plain string work, so relative URLs and paths work too. */
function besideManifest(manifestUrl: string, name: string): string {
  return manifestUrl.slice(0, manifestUrl.lastIndexOf('/') + 1) + name;
}

async function fetchBytes(doFetch: typeof fetch, url: string): Promise<ArrayBuffer> {
  const response = await doFetch(url);
  if (!response.ok) throw new Error(`aekit-web: fetching ${url} failed: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** Check what the step needs from a manifest; errors name the URL and the field. */
function checkManifest(value: unknown, url: string): TrainStepManifest {
  const fail = (what: string): never => {
    throw new Error(`aekit-web: ${url}: ${what}`);
  };
  const m = value as Partial<TrainStepManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== TRAIN_STEP_FORMAT) fail(`not a fine-tuning bundle manifest (format '${String(m?.format)}', expected '${TRAIN_STEP_FORMAT}'); write one with \`aekit export <run> --part train-step\``);
  if (typeof m!.version !== 'number' || m!.version > TRAIN_STEP_VERSION) fail(`version ${String(m!.version)} is newer than this module reads (${TRAIN_STEP_VERSION})`);
  if (!Number.isInteger(m!.batchSize) || m!.batchSize! < 1) fail(`'batchSize' is ${JSON.stringify(m!.batchSize)}, expected a positive integer`);
  if (!m!.images?.input || !Array.isArray(m!.images.dims)) fail(`'images' must name the images input and its dims`);
  if (!Array.isArray(m!.tensors) || !Array.isArray(m!.losses) || !Array.isArray(m!.noise) || !Array.isArray(m!.scalars)) fail(`'tensors', 'losses', 'noise' and 'scalars' must be lists`);
  if (m!.optimizer?.kind !== 'adam' || !m!.optimizer.lrOverC1Input || !m!.optimizer.c2Input) fail(`'optimizer' must be Adam with its step inputs`);
  return m as TrainStepManifest;
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Float32 values of little-endian bytes (the format's order), without a copy on little-endian hosts. */
function float32LittleEndian(buffer: ArrayBuffer): Float32Array {
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] === 1) return new Float32Array(buffer);
  const view = new DataView(buffer);
  const out = new Float32Array(buffer.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Noise of one input, `mean + std * N(0, 1)` or U[0, 1), from a seed. */
function drawNoise(noise: TrainStepNoise, seed: number): Float32Array {
  const count = elements(noise.drawShape);
  if (noise.distribution === 'uniform') return uniformSamples(count, seed);
  const out = normalSamples(count, seed);
  if (noise.mean !== 0 || noise.std !== 1) for (let i = 0; i < count; i++) out[i] = noise.mean + noise.std * out[i];
  return out;
}

/**
 * Load a fine-tuning bundle: `url` is its `train-step.json` (or the folder URL ending in '/'); the
 * step graph and state are fetched from beside it. Opens an onnxruntime-web session on the first
 * execution provider that works (failures of the others are logged, and all are reported if none
 * works). Await it before loading a decoder, or the other way round, not both at once:
 * onnxruntime-web initialises its wasm instance with the page's first session, and concurrent
 * first sessions race on it.
 */
export async function loadTrainer(url: string, options: LoadTrainerOptions = {}): Promise<Trainer> {
  const log = options.log ?? defaultLog;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const manifestUrl = url.endsWith('/') ? url + TRAIN_STEP_FILES.manifest : url;
  const text = new TextDecoder().decode(await fetchBytes(doFetch, manifestUrl));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`aekit-web: ${manifestUrl} is not JSON (${(error as Error).message})`);
  }
  const manifest = checkManifest(parsed, manifestUrl);
  const providers = checkProviders(options.executionProviders ?? ['wasm']);
  const [modelBytes, stateBuffer] = await Promise.all([
    fetchBytes(doFetch, besideManifest(manifestUrl, manifest.files.model)),
    fetchBytes(doFetch, besideManifest(manifestUrl, manifest.files.state)),
  ]);
  if (stateBuffer.byteLength % 4 !== 0) throw new Error(`aekit-web: ${manifestUrl}: ${manifest.files.state} has ${stateBuffer.byteLength} bytes, not a whole number of float32 values (truncated?)`);
  const stored = float32LittleEndian(stateBuffer);
  // Each tensor owns its array: the step replaces it with the output of the same name.
  const state = new Map<string, Float32Array>();
  for (const t of manifest.tensors) {
    const end = t.offset + elements(t.shape);
    if (end > stored.length) throw new Error(`aekit-web: ${manifestUrl}: tensor '${t.name}' runs past the end of ${manifest.files.state} (${stored.length} values)`);
    state.set(t.name, stored.slice(t.offset, end));
  }

  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  if (options.numThreads !== undefined) ort.env.wasm.numThreads = options.numThreads;
  const bytes = new Uint8Array(modelBytes);
  const { session, provider } = await openSession(bytes, providers, manifestUrl, log);
  log('info', `${manifestUrl}: ${manifest.family} fine-tuning step (batch ${manifest.batchSize}) on ${provider}`);
  const opened = session;
  const { height, width, channels } = manifest.imageShape;
  const imageValues = manifest.batchSize * height * width * channels;
  const { optimizer } = manifest;
  let stepCount = optimizer.step;

  const step = async (images: Float32Array, opts: FineTuneStepOptions = {}): Promise<Record<string, number>> => {
    if (!(images instanceof Float32Array) || images.length !== imageValues) {
      throw new Error(`aekit-web: step() takes ${manifest.batchSize} images of ${height}x${width}x${channels} (NHWC, [0, 1]): ${imageValues} float32 values, got ${images instanceof Float32Array ? images.length : typeof images}`);
    }
    const feeds: Record<string, ort.Tensor> = { [manifest.images.input]: new ort.Tensor('float32', images, manifest.images.dims) };
    if (manifest.labels) {
      const { input, numClasses } = manifest.labels;
      if (!opts.labels || opts.labels.length !== manifest.batchSize) throw new Error(`aekit-web: this model trains on labelled images: pass { labels } with ${manifest.batchSize} classes (0 .. ${numClasses - 1})`);
      const oneHot = new Float32Array(manifest.batchSize * numClasses);
      for (let r = 0; r < manifest.batchSize; r++) {
        const label = opts.labels[r];
        if (!Number.isInteger(label) || label < 0 || label >= numClasses) throw new Error(`aekit-web: label ${label} is outside 0 .. ${numClasses - 1}`);
        oneHot[r * numClasses + label] = 1;
      }
      feeds[input] = new ort.Tensor('float32', oneHot, [manifest.batchSize, numClasses]);
    }
    const seed = opts.seed ?? Math.floor(Math.random() * MAX_SEED);
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new Error(`aekit-web: seed must be a whole number in 0 .. ${MAX_SEED}, got ${opts.seed}`);
    manifest.noise.forEach((noise, i) => {
      const given = opts.noise?.[noise.input];
      if (given !== undefined && given.length !== elements(noise.drawShape)) {
        throw new Error(`aekit-web: noise '${noise.input}' has ${given.length} values, expected ${elements(noise.drawShape)} ([${noise.drawShape}])`);
      }
      // Each input its own stream: the same seed must not give two inputs the same numbers.
      feeds[noise.input] = new ort.Tensor('float32', given ?? drawNoise(noise, (seed + i * 0x9e3779b9) >>> 0), noise.dims);
    });
    for (const s of manifest.scalars) feeds[s.input] = new ort.Tensor('float32', Float32Array.of(s.value), []);
    const t = stepCount + 1;
    const learningRate = opts.learningRate ?? optimizer.learningRate;
    feeds[optimizer.lrOverC1Input] = new ort.Tensor('float32', Float32Array.of(learningRate / (1 - optimizer.beta1 ** t)), []);
    feeds[optimizer.c2Input] = new ort.Tensor('float32', Float32Array.of(1 - optimizer.beta2 ** t), []);
    for (const tensor of manifest.tensors) feeds[tensor.input] = new ort.Tensor('float32', state.get(tensor.name)!, tensor.shape);

    const results = await opened.run(feeds);
    const scalar = async (name: string) => ((await results[name].getData()) as Float32Array)[0];
    const losses: Record<string, number> = {};
    for (const term of manifest.losses) losses[term.name] = await scalar(term.output);
    losses.gradNorm = await scalar(manifest.gradNorm);
    const bad = Object.entries(losses).find(([, v]) => !Number.isFinite(v));
    if (bad) throw new Error(`aekit-web: step ${t}: ${bad[0] === 'gradNorm' ? 'the gradient norm' : `loss term '${bad[0]}'`} is ${bad[1]}; the update was not applied (try a lower learning rate)`);
    for (const tensor of manifest.tensors) {
      // onnxruntime-web copies every output out of its heap into an array of its own: no copy needed.
      if (tensor.output) state.set(tensor.name, (await results[tensor.output].getData()) as Float32Array);
    }
    stepCount = t;
    return losses;
  };

  return {
    manifest,
    executionProvider: provider,
    batchSize: manifest.batchSize,
    get stepCount() {
      return stepCount;
    },
    step,
    parameters() {
      const out: Record<string, Float32Array> = {};
      for (const t of manifest.tensors) if (t.role !== 'adam-m' && t.role !== 'adam-v') out[t.name] = state.get(t.name)!.slice();
      return out;
    },
    async release() {
      await opened.release();
    },
  };
}
