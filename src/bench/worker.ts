/**
 * The contract between the benchmark's driver and a runtime under test. Each runtime lives apart
 * (a child Node process, or a Chromium page), so its memory is its own, a native crash cannot take
 * the benchmark down, and global runtime state (tfjs's backend, onnxruntime-web's wasm threads) is
 * never shared. The driver calls one worker at a time, which is what interleaves them.
 */
import type { TypedHostTensor } from '../artifact/runtime';
import type { BenchRuntime } from './runtimes';

/** What a worker is asked to open. */
export interface OpenRequest {
  runtime: BenchRuntime;
  /** The ONNX artifact (onnx runtimes). */
  onnxPath: string;
  /** Run folder or checkpoint of the original tfjs model (tfjs runtimes). */
  runDir?: string;
  /** Which part of the run the artifact is (tfjs runtimes). */
  part?: string;
  /** Threads for the runtimes that take a count. */
  threads: number;
}

/** How opening went: a ready runtime, or why it is not available on this machine. */
export type OpenResult =
  | {
      status: 'ready';
      /** From the model on disk (or URL) to a ready session, backend start-up included, package import excluded. */
      creationMs: number;
      /** Threads the runtime computes with (null: not applicable, e.g. a GPU). */
      threads: number | null;
      /** What actually runs (versions, adapter, backend). */
      detail: string;
    }
  | { status: 'unavailable'; reason: string };

/**
 * One output in the artifact's layout (NCHW images), as numbers: float32 outputs as they are,
 * float16 decoded to float32, integer and bool outputs as float64 (see dtypes.ts numericOutput).
 */
export interface OutputTensor {
  data: Float32Array | Float64Array;
  dims: number[];
}

/** One timed run. */
export interface RunResult {
  /** Host inputs in to host outputs out, measured inside the worker. */
  ms: number;
  /** Outputs by name, when asked for (first run at each batch size, for the agreement check). */
  outputs?: Record<string, OutputTensor>;
}

/** Peak memory as the worker could measure it. */
export interface MemoryReading {
  /** 'process-rss': peak resident set of the worker process; 'js-heap': the page's `performance.memory`. */
  kind: 'process-rss' | 'js-heap';
  peakBytes: number;
  /** The same measure before the runtime loaded the model. */
  baselineBytes?: number;
}

/** A runtime under test, driven one call at a time. */
export interface RuntimeWorker {
  open(request: OpenRequest): Promise<OpenResult>;
  /** Store the inputs of one batch size (sent once, not timed). */
  setInputs(batch: number, feeds: Record<string, TypedHostTensor>): Promise<void>;
  run(batch: number, keepOutputs: boolean): Promise<RunResult>;
  /** Release the runtime and report its peak memory; the worker is gone afterwards. */
  close(): Promise<MemoryReading | null>;
  /** Stop the worker at once (after an error). */
  kill(): Promise<void>;
}

/** Messages to a child worker process. */
export type WorkerRequest =
  | { id: number; type: 'open'; request: OpenRequest }
  | { id: number; type: 'inputs'; batch: number; feeds: Record<string, TypedHostTensor> }
  | { id: number; type: 'run'; batch: number; keepOutputs: boolean }
  | { id: number; type: 'close' };

/** Replies from a child worker process. */
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

/** The first non-empty line of an error's message (runtimes' errors can run to pages). */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n').find((l) => l.trim() !== '') ?? message).trim();
}
