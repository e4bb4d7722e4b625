/**
 * An onnxruntime session on a worker thread of its own, so that its runs overlap with the calling
 * thread's. onnxruntime-node 1.30 runs `InferenceSession.run` synchronously on the JavaScript
 * thread that calls it (inside a `setImmediate`), so two sessions of one thread never compute at
 * the same time; a session on a worker does. The training engine splits a batch between its own
 * session and such workers (src/train/engines/ort/shards.ts).
 *
 * The worker (./session-worker.ts) opens its session through ./runtime.ts like any other caller:
 * this file only moves tensors between threads. Tensors are copied both ways: onnxruntime-node
 * refuses typed arrays over a SharedArrayBuffer ("Invalid argument"), and structured cloning a
 * typed array would copy the whole buffer behind it (the engine's parameters are views of one
 * WebAssembly arena), so each feed is sliced out and its copy transferred.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AekitError } from '../core/errors';
import type { HostTensor, OrtSessionOptions, OrtSessionRuntime } from './runtime';
import type { SessionWorkerData, SessionWorkerReply, SessionWorkerRequest } from './session-worker';

/** A session whose runs happen on a worker thread (float32 feeds and outputs, as the training engine has them). */
export interface WorkerSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Run once and write the outputs named in `outputs` into their arrays. The feeds are copied
   * before this returns, so the caller may reuse them at once; the run itself proceeds on the
   * worker while the caller's thread does other work.
   */
  runInto(feeds: Record<string, HostTensor>, outputs: Record<string, HostTensor>): Promise<void>;
  release(): Promise<void>;
}

/**
 * The worker's script next to this file: compiled JavaScript, or TypeScript when aekit runs from
 * its sources (tests, benchmarks), which the worker then loads through tsx like its parent.
 */
function workerScript(): { file: string; execArgv: string[] } {
  const extension = path.extname(__filename);
  const file = path.join(__dirname, `session-worker${extension}`);
  return { file, execArgv: extension === '.ts' ? ['--require', 'tsx/cjs'] : [] };
}

/**
 * Open `onnxBytes` on `runtime` in a new worker thread.
 *
 * @throws AekitError as {@link openOrtSession} does (BAD_DATA, BACKEND_UNAVAILABLE), re-raised from the worker
 */
export async function openWorkerSession(runtime: OrtSessionRuntime, onnxBytes: Uint8Array, options: OrtSessionOptions = {}): Promise<WorkerSession> {
  const { file, execArgv } = workerScript();
  const data: SessionWorkerData = { runtime, bytes: onnxBytes, options };
  const worker = new Worker(file, { workerData: data, execArgv });
  const pending = new Map<number, { resolve: (outputs: Record<string, Float32Array>) => void; reject: (error: Error) => void }>();
  let broken: Error | undefined;
  const fail = (error: Error) => {
    broken ??= error;
    for (const waiter of pending.values()) waiter.reject(broken);
    pending.clear();
    worker.unref();
  };
  const opened = new Promise<{ inputNames: string[]; outputNames: string[] }>((resolve, reject) => {
    worker.once('message', (reply: SessionWorkerReply) => {
      if (reply.kind === 'open') resolve(reply);
      else reject(new AekitError('BAD_DATA', `the worker's session did not open: ${reply.kind === 'error' ? reply.message : reply.kind}`, { where: runtime }));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new AekitError('BACKEND_UNAVAILABLE', `the onnxruntime worker thread exited (code ${code}) before its session opened`, { where: runtime })));
  });
  let names: { inputNames: string[]; outputNames: string[] };
  try {
    names = await opened;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  worker.on('message', (reply: SessionWorkerReply) => {
    if (reply.kind === 'open' || reply.id === undefined) return;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.kind === 'error') waiter.reject(new AekitError('BAD_DATA', `onnxruntime run on a worker thread failed: ${reply.message}`, { where: runtime }));
    else waiter.resolve(reply.outputs);
  });
  worker.on('error', (error) => fail(error));
  worker.on('exit', (code) => fail(new AekitError('BACKEND_UNAVAILABLE', `the onnxruntime worker thread exited (code ${code})`, { where: runtime })));
  // From here the worker holds the process open only while a run is in flight (runInto refs it),
  // so a trainer that fails without releasing its sessions still exits. Unref'd after the
  // listeners: attaching a 'message' listener refs the worker's port again.
  worker.unref();
  let nextId = 0;
  return {
    inputNames: names.inputNames,
    outputNames: names.outputNames,
    async runInto(feeds, outputs) {
      if (broken) throw broken;
      const copies: Record<string, { data: Float32Array; dims: number[] }> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(feeds)) {
        const data = (t.data as Float32Array).slice();
        copies[name] = { data, dims: t.dims };
        transfer.push(data.buffer as ArrayBuffer);
      }
      const id = nextId++;
      const result = new Promise<Record<string, Float32Array>>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.ref();
      const request: SessionWorkerRequest = { kind: 'run', id, feeds: copies, outputs: Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, t.dims])) };
      worker.postMessage(request, transfer);
      const written = await result;
      for (const [name, t] of Object.entries(outputs)) (t.data as Float32Array).set(written[name]);
    },
    async release() {
      if (broken) return;
      broken = new AekitError('BAD_ARGUMENT', 'the worker session was released');
      await worker.terminate();
    },
  };
}
