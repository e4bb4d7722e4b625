/**
 * The worker side of ./worker-session.ts: opens one session through ./runtime.ts (the one file that
 * loads onnxruntime) and runs it on request, sending the outputs back (their buffers transferred,
 * not copied). The main thread ends it with `worker.terminate()`, which frees the session with the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openOrtSession } from './runtime';
import type { HostTensor, OrtSessionOptions, OrtSessionRuntime } from './runtime';

/** What the main thread asks of the worker. */
export interface SessionWorkerRequest {
  kind: 'run';
  id: number;
  feeds: Record<string, { data: Float32Array; dims: number[] }>;
  /** Output names and dims to fetch. */
  outputs: Record<string, number[]>;
}

/** What the worker answers. */
export type SessionWorkerReply =
  | { kind: 'open'; inputNames: string[]; outputNames: string[] }
  | { kind: 'result'; id: number; outputs: Record<string, Float32Array> }
  | { kind: 'error'; id?: number; message: string };

/** What the worker is started with. */
export interface SessionWorkerData {
  runtime: OrtSessionRuntime;
  bytes: Uint8Array;
  options: OrtSessionOptions;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('session-worker.ts runs only as a worker thread (see worker-session.ts)');
  const { runtime, bytes, options } = workerData as SessionWorkerData;
  const reply = (r: SessionWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);
  let session;
  try {
    session = await openOrtSession(runtime, bytes, options);
  } catch (error) {
    reply({ kind: 'error', message: message(error) });
    return;
  }
  const opened = session;
  reply({ kind: 'open', inputNames: [...opened.inputNames], outputNames: [...opened.outputNames] });
  port.on('message', (request: SessionWorkerRequest) => {
    const feeds: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(request.feeds)) feeds[name] = { dtype: 'float32', data: t.data, dims: t.dims };
    const outputs: Record<string, Float32Array> = {};
    const targets: Record<string, HostTensor> = {};
    for (const [name, dims] of Object.entries(request.outputs)) {
      outputs[name] = new Float32Array(dims.reduce((a, b) => a * b, 1));
      targets[name] = { dtype: 'float32', data: outputs[name], dims };
    }
    opened.runInto(feeds, targets).then(
      () => reply({ kind: 'result', id: request.id, outputs }, Object.values(outputs).map((o) => o.buffer as ArrayBuffer)),
      (error: unknown) => reply({ kind: 'error', id: request.id, message: message(error) }),
    );
  });
}

void main();
