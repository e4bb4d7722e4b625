/**
 * The one file of the export stage that loads onnxruntime: runs an artifact once on a named
 * runtime, for verification and the fp16 error report. Each package is required lazily, so that
 * importing aekit's export API loads neither.
 */
import { dirname } from 'node:path';
import { AekitError, unknownName } from '../core/errors';

/** Runtimes an artifact is checked on: onnxruntime-node's CPU EP, onnxruntime-web's wasm EP in Node. */
export const ORT_RUNTIMES = ['ort-node-cpu', 'ort-web-wasm'] as const;
/** See {@link ORT_RUNTIMES}. */
export type OrtRuntime = (typeof ORT_RUNTIMES)[number];

/** A dense tensor in the artifact's layout. */
export interface HostTensor {
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
  dims: number[];
}

/** What the two packages have in common (their own `Tensor` classes differ). */
interface OrtModule {
  Tensor: new (type: 'float32' | 'int32', data: Float32Array | Int32Array, dims: readonly number[]) => unknown;
  InferenceSession: {
    create(bytes: Uint8Array, options?: { executionProviders?: string[]; graphOptimizationLevel?: 'all' }): Promise<OrtSession>;
  };
}

interface OrtSession {
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[]; type: string }>>;
  release(): Promise<void>;
}

let webConfigured = false;

async function loadRuntime(runtime: OrtRuntime): Promise<{ ort: OrtModule; executionProviders: string[] }> {
  if (runtime === 'ort-node-cpu') {
    const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
    return { ort, executionProviders: ['cpu'] };
  }
  const web = await import('onnxruntime-web');
  if (!webConfigured) {
    // One thread: verification runs small batches, where worker start-up costs more than it
    // saves. The wasm files sit next to the package's Node entry point (dist/).
    web.env.wasm.numThreads = 1;
    web.env.wasm.wasmPaths = `${dirname(require.resolve('onnxruntime-web'))}/`;
    webConfigured = true;
  }
  return { ort: web as unknown as OrtModule, executionProviders: ['wasm'] };
}

// onnxruntime-web initialises one wasm instance; creating sessions concurrently races on it.
let webQueue: Promise<unknown> = Promise.resolve();

function serialised<T>(runtime: OrtRuntime, task: () => Promise<T>): Promise<T> {
  if (runtime !== 'ort-web-wasm') return task();
  const next = webQueue.then(task, task);
  webQueue = next.catch(() => undefined);
  return next;
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
      const ortFeeds: Record<string, unknown> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.dtype, t.data, t.dims);
      const results = await session.run(ortFeeds);
      return session.outputNames.map((name) => {
        const r = results[name];
        if (r.type !== 'float32' || !(r.data instanceof Float32Array)) {
          throw new AekitError('VERIFY_FAILED', `output '${name}' has type ${r.type} (expected float32)`, { where: runtime });
        }
        return { name, data: r.data, dims: [...r.dims] };
      });
    } catch (error) {
      if (error instanceof AekitError) throw error;
      throw new AekitError('VERIFY_FAILED', `the model does not run: ${(error as Error).message}`, { where: runtime, cause: error });
    } finally {
      await session.release();
    }
  });
}
