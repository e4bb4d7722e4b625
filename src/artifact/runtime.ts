/**
 * The one file of the export stage that loads onnxruntime: runs an artifact once on a named
 * runtime, for verification and the fp16 error report, and opens sessions for repeated runs
 * (benchmarks). Each package is required lazily, so that importing aekit's export API loads neither.
 */
import { dirname } from 'node:path';
import { AekitError, unknownName } from '../core/errors';

/** Runtimes an artifact is checked on: onnxruntime-node's CPU EP, onnxruntime-web's wasm EP in Node. */
export const ORT_RUNTIMES = ['ort-node-cpu', 'ort-web-wasm'] as const;
/** See {@link ORT_RUNTIMES}. */
export type OrtRuntime = (typeof ORT_RUNTIMES)[number];

/**
 * Runtimes {@link openOrtSession} can open: the verification runtimes plus onnxruntime-node's GPU
 * execution providers (which may be missing on a machine: opening them then fails with
 * BACKEND_UNAVAILABLE).
 */
export const ORT_SESSION_RUNTIMES = ['ort-node-cpu', 'ort-node-webgpu', 'ort-node-cuda', 'ort-web-wasm'] as const;
/** See {@link ORT_SESSION_RUNTIMES}. */
export type OrtSessionRuntime = (typeof ORT_SESSION_RUNTIMES)[number];

/** Package and execution provider of each runtime. */
const RUNTIME_PROVIDERS: Readonly<Record<OrtSessionRuntime, { web: boolean; executionProvider: string }>> = Object.freeze({
  'ort-node-cpu': { web: false, executionProvider: 'cpu' },
  'ort-node-webgpu': { web: false, executionProvider: 'webgpu' },
  'ort-node-cuda': { web: false, executionProvider: 'cuda' },
  'ort-web-wasm': { web: true, executionProvider: 'wasm' },
});

/**
 * User-facing execution provider names of onnxruntime-node (what `aekit serve --ep` takes) -> the
 * runtime {@link openOrtSession} opens for them. One frozen table, so that a new provider is one line.
 */
export const NODE_EXECUTION_PROVIDERS = Object.freeze({
  cpu: 'ort-node-cpu',
  webgpu: 'ort-node-webgpu',
  cuda: 'ort-node-cuda',
} as const satisfies Record<string, OrtSessionRuntime>);
/** See {@link NODE_EXECUTION_PROVIDERS}. */
export type NodeExecutionProvider = keyof typeof NODE_EXECUTION_PROVIDERS;

/** Check an execution provider name, with an error listing the valid ones. */
export function checkNodeExecutionProvider(name: string): NodeExecutionProvider {
  if (!Object.prototype.hasOwnProperty.call(NODE_EXECUTION_PROVIDERS, name)) throw unknownName('execution provider', name, Object.keys(NODE_EXECUTION_PROVIDERS));
  return name as NodeExecutionProvider;
}

/**
 * The typed array behind each element type a host tensor can hold: onnxruntime-common's own
 * mapping, with float16 as its IEEE half bits in a Uint16Array (Node 20 has no Float16Array, and
 * onnxruntime accepts the bits wherever it has one) and bool as one byte per element.
 */
export interface HostTensorData {
  float32: Float32Array;
  float16: Uint16Array;
  float64: Float64Array;
  int32: Int32Array;
  int64: BigInt64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/** An element type of {@link HostTensorData}. */
export type HostDtype = keyof HostTensorData;

/** Every {@link HostDtype}, for error messages and checks. */
export const HOST_DTYPES: readonly HostDtype[] = Object.freeze(['float32', 'float16', 'float64', 'int32', 'int64', 'int8', 'uint8', 'bool']);

/** A dense tensor in the artifact's layout, of the two element types aekit's own artifacts take. */
export interface HostTensor {
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
  dims: number[];
}

/**
 * A dense tensor of any {@link HostDtype}, its element type saying which typed array holds it: what
 * models from other tools take and give (int64 indices, bool masks, float16). Sessions take these
 * as well as {@link HostTensor}s.
 */
export type TypedHostTensor = { [D in HostDtype]: { dtype: D; data: HostTensorData[D]; dims: number[] } }[HostDtype];

/** A feed of a session: either form. */
export type FeedTensor = HostTensor | TypedHostTensor;

/** One output of {@link OrtSessionHandle.runTyped}: its name and the tensor in its own element type. */
export type NamedHostTensor = TypedHostTensor & { name: string };

/** What the two packages have in common (their own `Tensor` classes differ). */
interface OrtModule {
  env: { versions: { common?: string } };
  Tensor: new (type: HostDtype, data: HostTensorData[HostDtype], dims: readonly number[]) => unknown;
  InferenceSession: {
    create(
      bytes: Uint8Array,
      options?: {
        executionProviders?: string[];
        graphOptimizationLevel?: 'all';
        intraOpNumThreads?: number;
        logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
        extra?: Record<string, Record<string, Record<string, string>>>;
      },
    ): Promise<OrtSession>;
  };
}

interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>, fetches?: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[]; type: string }>>;
  release(): Promise<void>;
}

/** wasm threads onnxruntime-web was set up with (it reads the setting once, at its first session). */
let webThreads: number | undefined;

async function loadRuntime(runtime: OrtSessionRuntime, threads?: number): Promise<{ ort: OrtModule; executionProviders: string[]; threads?: number }> {
  const { web: isWeb, executionProvider } = RUNTIME_PROVIDERS[runtime];
  if (!isWeb) {
    const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
    return { ort, executionProviders: [executionProvider], threads };
  }
  // Both packages register their backends in the one onnxruntime-common they share, and the
  // first backend registered under a name wins: onnxruntime-web registers its wasm backend as
  // 'cpu' too. Were it loaded first, onnxruntime-node's CPU sessions in this process would
  // silently run on wasm (and the training engine's pre-allocated outputs would never be
  // written). Loading onnxruntime-node first keeps 'cpu' native; web sessions ask for 'wasm'.
  await import('onnxruntime-node');
  const web = await import('onnxruntime-web');
  if (webThreads === undefined) {
    // One thread unless asked: verification runs small batches, where worker start-up costs more
    // than it saves. The wasm files sit next to the package's Node entry point (dist/).
    webThreads = threads ?? 1;
    web.env.wasm.numThreads = webThreads;
    web.env.wasm.wasmPaths = `${dirname(require.resolve('onnxruntime-web'))}/`;
  }
  return { ort: web as unknown as OrtModule, executionProviders: [executionProvider], threads: webThreads };
}

// onnxruntime-web initialises one wasm instance; creating sessions concurrently races on it.
let webQueue: Promise<unknown> = Promise.resolve();

function serialised<T>(runtime: OrtSessionRuntime, task: () => Promise<T>): Promise<T> {
  if (!RUNTIME_PROVIDERS[runtime].web) return task();
  const next = webQueue.then(task, task);
  webQueue = next.catch(() => undefined);
  return next;
}

function ortFeeds(ort: OrtModule, feeds: Record<string, FeedTensor>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = new ort.Tensor(t.dtype, t.data, t.dims);
  return out;
}

/**
 * One onnxruntime result as a host tensor, or an error with `code` naming the output and the
 * runtime when its element type is not a {@link HostDtype} (string, uint16, bfloat16, ...).
 */
function hostTensorOf(name: string, r: { data: unknown; dims: readonly number[]; type: string }, code: 'VERIFY_FAILED' | 'BAD_DATA', runtime: OrtSessionRuntime): NamedHostTensor {
  const dims = [...r.dims];
  // A runtime that has Float16Array hands float16 out in it: the same bits, seen as Uint16Array.
  if (r.type === 'float16' && ArrayBuffer.isView(r.data) && !(r.data instanceof Uint16Array)) {
    const view = r.data as unknown as { buffer: ArrayBuffer; byteOffset: number; length: number };
    return { name, dtype: 'float16', data: new Uint16Array(view.buffer, view.byteOffset, view.length), dims };
  }
  if (!(HOST_DTYPES as readonly string[]).includes(r.type) || !ArrayBuffer.isView(r.data)) {
    throw new AekitError(code, `output '${name}' has element type ${r.type}; expected one of ${HOST_DTYPES.join(', ')}`, { where: runtime });
  }
  return { name, dtype: r.type, data: r.data, dims } as NamedHostTensor;
}

/** One run of an open session: host tensors in, every output in its own element type (in the session's order) out. */
async function runSessionTyped(ort: OrtModule, session: OrtSession, feeds: Record<string, FeedTensor>, code: 'VERIFY_FAILED' | 'BAD_DATA', runtime: OrtSessionRuntime): Promise<NamedHostTensor[]> {
  const results = await session.run(ortFeeds(ort, feeds));
  return session.outputNames.map((name) => hostTensorOf(name, results[name], code, runtime));
}

/**
 * One run of an open session: host tensors in, every output (as float32, in the session's order)
 * out; a non-float32 output is an error with `code`, naming the output and the runtime.
 */
async function runSession(
  ort: OrtModule,
  session: OrtSession,
  feeds: Record<string, FeedTensor>,
  code: 'VERIFY_FAILED' | 'BAD_DATA',
  runtime: OrtSessionRuntime,
): Promise<{ name: string; data: Float32Array; dims: number[] }[]> {
  const results = await session.run(ortFeeds(ort, feeds));
  return session.outputNames.map((name) => {
    const r = results[name];
    if (r.type !== 'float32' || !(r.data instanceof Float32Array)) {
      throw new AekitError(code, `output '${name}' has type ${r.type} (expected float32)`, { where: runtime });
    }
    return { name, data: r.data, dims: [...r.dims] };
  });
}

/** Check a runtime name, with an error listing the valid ones. */
export function checkRuntime(name: string): OrtRuntime {
  if (!(ORT_RUNTIMES as readonly string[]).includes(name)) throw unknownName('onnx runtime', name, ORT_RUNTIMES);
  return name as OrtRuntime;
}

/**
 * Run `onnxBytes` once on `runtime` with `feeds`; returns every output as float32 in the order of
 * the session's output names.
 *
 * @throws AekitError VERIFY_FAILED naming the runtime when the model does not load or run.
 */
export async function runOnnx(
  runtime: OrtRuntime,
  onnxBytes: Uint8Array,
  feeds: Record<string, HostTensor>,
): Promise<{ name: string; data: Float32Array; dims: number[] }[]> {
  return serialised(runtime, async () => {
    const { ort, executionProviders } = await loadRuntime(runtime);
    let session: OrtSession;
    try {
      session = await ort.InferenceSession.create(onnxBytes, { executionProviders, graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new AekitError('VERIFY_FAILED', `the model does not load: ${(error as Error).message}`, { where: runtime, cause: error });
    }
    try {
      return await runSession(ort, session, feeds, 'VERIFY_FAILED', runtime);
    } catch (error) {
      if (error instanceof AekitError) throw error;
      throw new AekitError('VERIFY_FAILED', `the model does not run: ${(error as Error).message}`, { where: runtime, cause: error });
    } finally {
      await session.release();
    }
  });
}

/** Options of {@link openOrtSession}. */
export interface OrtSessionOptions {
  /**
   * Threads: onnxruntime-node's intra-op threads per session; onnxruntime-web's wasm threads, which
   * it reads once per process (a later different value is ignored: see {@link OrtSessionHandle.threads}).
   * Default: onnxruntime-node's own default (one per physical core); 1 for onnxruntime-web.
   */
  threads?: number;
  /**
   * onnxruntime-node only: whether idle intra-op threads spin-wait for the next operator
   * (onnxruntime's default, true). Spinning threads hold their cores between operators, which
   * costs the most when other processes want those cores: the training engine turns it off
   * (docs/benchmarks.md, "Training").
   */
  spinning?: boolean;
}

/** An open session for repeated runs. */
export interface OrtSessionHandle {
  readonly runtime: OrtSessionRuntime;
  /** Version of the onnxruntime package the session runs on. */
  readonly version: string;
  /** Threads the session computes with (undefined: onnxruntime-node's default). */
  readonly threads?: number;
  /** Milliseconds `InferenceSession.create` took (runtime start-up included, package import not). */
  readonly createMs: number;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Run once; every output as float32, in the order of {@link outputNames} (another element type is an error). */
  run(feeds: Record<string, FeedTensor>): Promise<{ name: string; data: Float32Array; dims: number[] }[]>;
  /**
   * Run once; every output in its own element type, in the order of {@link outputNames}. For models
   * from other tools (int64 indices, bool masks, float16), which the benchmark runs as they are.
   */
  runTyped(feeds: Record<string, FeedTensor>): Promise<NamedHostTensor[]>;
  /**
   * Run once and write the outputs named in `outputs` into their arrays (which must have the
   * outputs' sizes); other outputs are not fetched. For steps that run many times on the same
   * buffers (the training engine): onnxruntime-node writes into them directly (pre-allocated
   * outputs); onnxruntime-web's results are copied into them.
   */
  runInto(feeds: Record<string, HostTensor>, outputs: Record<string, HostTensor>): Promise<void>;
  release(): Promise<void>;
}

/** Check a session runtime name, with an error listing the valid ones. */
export function checkSessionRuntime(name: string): OrtSessionRuntime {
  if (!(ORT_SESSION_RUNTIMES as readonly string[]).includes(name)) throw unknownName('onnx runtime', name, ORT_SESSION_RUNTIMES);
  return name as OrtSessionRuntime;
}

// ORT's severity levels: 0 verbose .. 3 error, 4 fatal. A provider that cannot start is reported
// through the thrown error, so its native log lines would only repeat it.
const ORT_LOG_FATAL = 4;

/**
 * Open a session on `runtime` for repeated runs (the caller releases it).
 *
 * @throws AekitError BACKEND_UNAVAILABLE when a GPU execution provider cannot start (not bundled,
 *   no adapter), BAD_DATA when the CPU runtimes cannot load the model.
 */
export async function openOrtSession(runtime: OrtSessionRuntime, onnxBytes: Uint8Array, options: OrtSessionOptions = {}): Promise<OrtSessionHandle> {
  return serialised(runtime, async () => {
    const { ort, executionProviders, threads } = await loadRuntime(checkSessionRuntime(runtime), options.threads);
    const gpu = runtime === 'ort-node-webgpu' || runtime === 'ort-node-cuda';
    let session: OrtSession;
    const start = performance.now();
    try {
      session = await ort.InferenceSession.create(onnxBytes, {
        executionProviders,
        graphOptimizationLevel: 'all',
        ...(!RUNTIME_PROVIDERS[runtime].web && threads !== undefined ? { intraOpNumThreads: threads } : {}),
        ...(gpu ? { logSeverityLevel: ORT_LOG_FATAL } : {}),
        ...(!RUNTIME_PROVIDERS[runtime].web && options.spinning !== undefined ? { extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } } } : {}),
      });
    } catch (error) {
      const message = firstLine(error);
      if (gpu) throw new AekitError('BACKEND_UNAVAILABLE', `execution provider '${executionProviders[0]}' cannot start: ${message}`, { where: runtime, cause: error });
      throw new AekitError('BAD_DATA', `the model does not load: ${message}`, { where: runtime, cause: error });
    }
    const createMs = performance.now() - start;
    return {
      runtime,
      version: ort.env.versions.common ?? 'unknown',
      threads,
      createMs,
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      run: (feeds) => runSession(ort, session, feeds, 'BAD_DATA', runtime),
      runTyped: (feeds) => runSessionTyped(ort, session, feeds, 'BAD_DATA', runtime),
      async runInto(feeds, outputs) {
        const fetches: Record<string, unknown> = {};
        if (!RUNTIME_PROVIDERS[runtime].web) {
          // onnxruntime-node writes into pre-allocated outputs.
          for (const [name, t] of Object.entries(outputs)) fetches[name] = new ort.Tensor(t.dtype, t.data, t.dims);
          await session.run(ortFeeds(ort, feeds), fetches);
          return;
        }
        // onnxruntime-web (1.30, wasm) leaves pre-allocated CPU outputs unwritten: copy its results.
        for (const name of Object.keys(outputs)) fetches[name] = null;
        const results = await session.run(ortFeeds(ort, feeds), fetches);
        for (const [name, t] of Object.entries(outputs)) t.data.set(results[name].data as Float32Array & Int32Array);
      },
      release: () => session.release(),
    };
  });
}

/** First meaningful line of an onnxruntime error (its messages carry long source paths). */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n').find((l) => l.trim() !== '') ?? message;
  return line.replace(/^\/onnxruntime_src\/\S+\s+/, '').trim().slice(0, 400);
}
