/**
 * Entry point of a benchmark child process: hosts one Node runtime (an onnxruntime session or the
 * run's tfjs model) and answers the driver's requests over IPC (see worker.ts). Packages are loaded
 * only for the runtime asked for, so the process's memory is that runtime's.
 */
import { promises as fs, readFileSync } from 'node:fs';
import { SOFTWARE_VULKAN_HINT } from '../core/browser';
import { AekitError } from '../core/errors';
import { NCHW_TO_NHWC, NHWC_TO_NCHW, isImageRank, transposeArray } from '../export/layout';
import type { TypedHostTensor } from '../artifact/runtime';
import type { tf as Tf } from '../core/tfjs-backend';
import { numericOutput } from './dtypes';
import type { MemoryReading, OpenRequest, OpenResult, OutputTensor, RunResult, WorkerReply, WorkerRequest } from './worker';

/** A loaded runtime: runs host inputs to host outputs (each in its own element type). */
interface Engine {
  run(batch: number): Promise<Record<string, TypedHostTensor>>;
  /** Outputs of `run` in the artifact's layout (NCHW images), as numbers; not timed. */
  toArtifactLayout(outputs: Record<string, TypedHostTensor>): Record<string, OutputTensor>;
  setInputs(batch: number, feeds: Record<string, TypedHostTensor>): void;
  release(): Promise<void>;
}

const TFJS_BACKEND_OF = { 'tfjs-wasm': 'wasm', 'tfjs-cpu': 'cpu', 'tfjs-node': 'tfjs-node' } as const;

/** Why tfjs-node is usually absent, for the skipped row. */
const TFJS_NODE_MISSING =
  '@tensorflow/tfjs-node is not installed (optional dependency: its install step downloads libtensorflow, which fails offline)';

/**
 * Hint for a WebGPU provider that finds no adapter: Dawn needs a Vulkan driver, and on a machine
 * without a GPU, SwiftShader (software Vulkan, from the bundled Chromium) serves.
 */
const NO_ADAPTER_HINT = `no Vulkan driver found; ${SOFTWARE_VULKAN_HINT}`;

/** Hint for a CUDA provider whose library does not load (its dependencies are not bundled). */
const NO_CUDA_HINT = 'the CUDA provider needs an NVIDIA GPU with its driver and the CUDA and cuDNN runtime libraries onnxruntime-node was built against on the library path';

let engine: Engine | undefined;
let baselineRss = 0;

/**
 * Peak resident set of this process, in bytes. Linux's VmHWM belongs to the process image, whereas
 * getrusage's maxRSS survives exec: a forked worker would report its parent's peak (the driver's,
 * hundreds of MB after training) instead of its own.
 */
function peakRssBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: fall back to getrusage.
  }
  // maxRSS is in kilobytes (getrusage).
  return process.resourceUsage().maxRSS * 1024;
}

async function openOnnx(request: OpenRequest): Promise<{ engine: Engine; result: OpenResult }> {
  const { openOrtSession } = await import('../artifact/runtime');
  const runtime = request.runtime as 'ort-node-cpu' | 'ort-node-webgpu' | 'ort-node-cuda' | 'ort-web-wasm';
  baselineRss = process.memoryUsage().rss;
  const start = performance.now();
  const bytes = new Uint8Array(await fs.readFile(request.onnxPath));
  const readMs = performance.now() - start;
  let session;
  try {
    session = await openOrtSession(runtime, bytes, { threads: request.threads });
  } catch (error) {
    if (error instanceof AekitError && error.code === 'BACKEND_UNAVAILABLE') {
      // The row already names the runtime: drop the error's own "<runtime>: " prefix.
      let reason = error.where && error.message.startsWith(`${error.where}: `) ? error.message.slice(error.where.length + 2) : error.message;
      if (runtime === 'ort-node-webgpu' && /adapter/i.test(reason) && !process.env.VK_ICD_FILENAMES) reason += `; ${NO_ADAPTER_HINT}`;
      if (runtime === 'ort-node-cuda' && /shared library/i.test(reason)) reason += `; ${NO_CUDA_HINT}`;
      return { engine: undefined as never, result: { status: 'unavailable', reason } };
    }
    throw error;
  }
  const inputs = new Map<number, Record<string, TypedHostTensor>>();
  const gpu = runtime === 'ort-node-webgpu' || runtime === 'ort-node-cuda';
  const detail = [
    `${runtime.startsWith('ort-web') ? 'onnxruntime-web' : 'onnxruntime-node'} ${await ortVersion(runtime)}`,
    runtime === 'ort-node-webgpu' && process.env.VK_ICD_FILENAMES ? `VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}` : '',
  ].filter(Boolean).join(', ');
  return {
    engine: {
      setInputs: (batch, feeds) => inputs.set(batch, feeds),
      async run(batch) {
        const results = await session.runTyped(inputs.get(batch)!);
        return Object.fromEntries(results.map((r) => [r.name, r]));
      },
      toArtifactLayout: (outputs) => Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, numericOutput(t)])),
      release: () => session.release(),
    },
    result: { status: 'ready', creationMs: readMs + session.createMs, threads: gpu ? null : (session.threads ?? null), detail },
  };
}

async function ortVersion(runtime: string): Promise<string> {
  // Versions come from the packages' manifests: onnxruntime-web's exports map hides package.json.
  const name = runtime.startsWith('ort-web') ? 'onnxruntime-web' : 'onnxruntime-node';
  try {
    const root = require.resolve(name).replace(/(node_modules\/[^/]+)\/.*$/, '$1');
    return (JSON.parse(await fs.readFile(`${root}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

async function openTfjs(request: OpenRequest): Promise<{ engine: Engine; result: OpenResult }> {
  const backend = TFJS_BACKEND_OF[request.runtime as keyof typeof TFJS_BACKEND_OF];
  if (!request.runDir || !request.part) throw new AekitError('BAD_ARGUMENT', 'a tfjs runtime needs the run folder and the part', { where: request.runtime });
  const { tf, useBackend } = await import('../core/tfjs-backend');
  const { loadCheckpoint } = await import('../run/checkpoint');
  baselineRss = process.memoryUsage().rss;
  const start = performance.now();
  try {
    await useBackend(backend);
  } catch (error) {
    const message = (error as Error).message;
    const reason = backend === 'tfjs-node' && /Cannot find module/i.test(message) ? TFJS_NODE_MISSING : message;
    return { engine: undefined as never, result: { status: 'unavailable', reason } };
  }
  const loaded = await loadCheckpoint(request.runDir);
  const creationMs = performance.now() - start;
  const part = request.part as keyof typeof loaded.model.parts;
  const model = loaded.model.parts[part];
  const names = loaded.model.ioNames[part];
  if (!model || !names) {
    loaded.model.dispose();
    throw new AekitError('BAD_ARGUMENT', `the run's model has no part '${request.part}'; it has: ${Object.keys(loaded.model.parts).join(', ')}`, { where: request.runDir });
  }
  // tfjs computes in NHWC: image inputs are transposed once here, outside the timed runs. aekit's
  // own artifacts (the only ones with a tfjs model) take float32 and int32 only.
  const inputs = new Map<number, { data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' }[]>();
  return {
    engine: {
      setInputs(batch, feeds) {
        inputs.set(
          batch,
          names.inputs.map((name) => {
            const feed = feeds[name];
            if (!feed) throw new AekitError('BAD_DATA', `the artifact has no input '${name}', which the tfjs model takes`, { where: request.onnxPath });
            if (feed.dtype !== 'float32' && feed.dtype !== 'int32') {
              throw new AekitError('BAD_DATA', `input '${name}' is ${feed.dtype}; the tfjs model takes float32 or int32`, { where: request.onnxPath });
            }
            if (!isImageRank(feed.dims.length)) return { data: feed.data, shape: feed.dims, dtype: feed.dtype };
            return { data: transposeArray(feed.data, feed.dims, NCHW_TO_NHWC), shape: NCHW_TO_NHWC.map((p) => feed.dims[p]), dtype: feed.dtype };
          }),
        );
      },
      async run(batch) {
        const xs = inputs.get(batch)!.map((x) => tf.tensor(x.data, x.shape, x.dtype));
        // apply (not predict): predict splits the batch into chunks of 32. training: false as at export.
        const ys = tf.tidy(() => {
          const y = model.apply(xs.length === 1 ? xs[0] : xs, { training: false }) as Tf.Tensor | Tf.Tensor[];
          return Array.isArray(y) ? y : [y];
        });
        const data = await Promise.all(ys.map((y) => y.data()));
        const out: Record<string, TypedHostTensor> = {};
        ys.forEach((y, i) => (out[names.outputs[i]] = { dtype: 'float32', data: data[i] as Float32Array, dims: [...y.shape] }));
        tf.dispose([...xs, ...ys]);
        return out;
      },
      toArtifactLayout(outputs) {
        return Object.fromEntries(
          Object.entries(outputs).map(([name, t]) => {
            const o = numericOutput(t);
            return [name, isImageRank(o.dims.length) ? { data: transposeArray(o.data as Float32Array, o.dims, NHWC_TO_NCHW), dims: NHWC_TO_NCHW.map((p) => o.dims[p]) } : o];
          }),
        );
      },
      async release() {
        loaded.model.dispose();
      },
    },
    result: { status: 'ready', creationMs, threads: backend === 'cpu' ? 1 : null, detail: `tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, checkpoint ${loaded.dir}` },
  };
}

async function handle(message: WorkerRequest): Promise<unknown> {
  switch (message.type) {
    case 'open': {
      const opened = message.request.runtime.startsWith('tfjs-') ? await openTfjs(message.request) : await openOnnx(message.request);
      engine = opened.result.status === 'ready' ? opened.engine : undefined;
      return opened.result;
    }
    case 'inputs':
      if (!engine) throw new Error('no runtime is open');
      engine.setInputs(message.batch, message.feeds);
      return null;
    case 'run': {
      if (!engine) throw new Error('no runtime is open');
      const start = performance.now();
      const outputs = await engine.run(message.batch);
      const ms = performance.now() - start;
      const result: RunResult = { ms };
      if (message.keepOutputs) result.outputs = engine.toArtifactLayout(outputs);
      return result;
    }
    case 'close': {
      if (engine) await engine.release();
      const reading: MemoryReading = { kind: 'process-rss', peakBytes: peakRssBytes(), baselineBytes: baselineRss };
      return reading;
    }
  }
}

function reply(value: WorkerReply): Promise<void> {
  return new Promise((resolve) => process.send!(value, undefined, undefined, () => resolve()));
}

process.on('message', (message: WorkerRequest) => {
  handle(message).then(
    async (value) => {
      await reply({ id: message.id, ok: true, value });
      // onnxruntime-web's wasm threads keep the event loop alive: leave once the reply is out.
      if (message.type === 'close') process.disconnect();
    },
    (error: unknown) => reply({ id: message.id, ok: false, message: error instanceof Error ? error.message : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
