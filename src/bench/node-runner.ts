/**
 * The driver's side of a Node runtime: forks node-worker in a child process of its own and talks to
 * it over IPC (with V8 serialisation, so typed arrays travel as they are).
 */
import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TypedHostTensor } from '../artifact/runtime';
import type { MemoryReading, OpenRequest, OpenResult, RunResult, RuntimeWorker, WorkerReply, WorkerRequest } from './worker';

/** Characters of a dead worker's stderr quoted in the error. */
const STDERR_TAIL_CHARS = 600;

/** A request without its id (the id is added when sent). */
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * Start a child process hosting one runtime. Under tsx (tests, `npx tsx`) the worker is the .ts
 * source and the child registers tsx too; from dist/ it is plain JavaScript.
 */
export function startNodeWorker(env: NodeJS.ProcessEnv = process.env): RuntimeWorker {
  const extension = path.extname(__filename);
  const script = path.join(__dirname, `node-worker${extension}`);
  // tsx's loader (its package entry) registers both require() and import() of .ts files.
  const execArgv = extension === '.ts' ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [];
  const child: ChildProcess = fork(script, [], { execArgv, env, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8 * STDERR_TAIL_CHARS);
  });
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let exited: string | undefined;
  child.on('message', (message: WorkerReply) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.value);
    else waiter.reject(new Error(message.message));
  });
  child.on('exit', (code, signal) => {
    const tail = stderr.trim().slice(-STDERR_TAIL_CHARS);
    exited = `worker process exited (${signal ? `signal ${signal}` : `code ${code}`})${tail ? `: ${tail}` : ''}`;
    for (const waiter of pending.values()) waiter.reject(new Error(exited));
    pending.clear();
  });

  const call = <T>(request: RequestBody): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(exited));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id } as WorkerRequest);
    });

  return {
    open: (request: OpenRequest) => call<OpenResult>({ type: 'open', request }),
    setInputs: (batch: number, feeds: Record<string, TypedHostTensor>) => call<void>({ type: 'inputs', batch, feeds }),
    run: (batch: number, keepOutputs: boolean) => call<RunResult>({ type: 'run', batch, keepOutputs }),
    async close() {
      const reading = await call<MemoryReading>({ type: 'close' });
      await new Promise<void>((resolve) => (exited ? resolve() : child.once('exit', () => resolve())));
      return reading;
    },
    async kill() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await gone;
    },
  };
}
