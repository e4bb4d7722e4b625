/**
 * One runtime under test, from start to rows: starting its worker and opening the model (an
 * unavailable runtime becomes a skipped row, a failing one a failed row), the per-batch timings and
 * agreement collected while it runs, and the report rows they make.
 */
import * as path from 'node:path';
import type { Logger } from '../core/log';
import type { TypedHostTensor } from '../artifact/runtime';
import type { Agreement } from './agreement';
import { startBrowserWorker } from './browser-runner';
import { knownFlops } from './flops';
import type { FlopCount } from './flops';
import type { BenchArtifact } from './inputs';
import { startNodeWorker } from './node-runner';
import { BENCH_RUNTIMES } from './runtimes';
import type { BenchRuntime } from './runtimes';
import { summarise } from './stats';
import type { LatencySummary } from './stats';
import { firstLine } from './worker';
import type { MemoryReading, RuntimeWorker } from './worker';

/** How the workers are started (see `BenchOptions`). */
export interface WorkerLaunchOptions {
  /** Environment of the Node worker processes (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Chromium to launch for the browser rows (default: AEKIT_CHROMIUM, else a system one, else the bundled one; see src/core/browser.ts). */
  chromiumPath?: string;
  /** aekit's built browser module for the browser rows (default dist/web/aekit-web.js). */
  webModuleFile?: string;
}

/** One runtime at one batch size (or one runtime that did not run: batch null). */
export interface BenchRow {
  runtime: BenchRuntime;
  batch: number | null;
  status: 'ok' | 'skipped' | 'failed';
  /** Why a row is skipped (runtime not available here) or failed (error while running). */
  reason?: string;
  /** What ran: package versions, backend, adapter. */
  detail?: string;
  threads: number | null;
  /** Model on disk to ready session, ms (per runtime: the same on each of its rows). */
  creationMs: number | null;
  /** First run at this batch size, ms. */
  firstInferenceMs: number | null;
  /** Steady-state latency over the timed runs, ms. */
  latencyMs: LatencySummary | null;
  /** batch / median latency. */
  imagesPerSecond: number | null;
  /** FLOPs of one run at this batch size (counted from the ONNX graph); null when unknown. */
  flops: number | null;
  /** The counter left nodes out: flops and gflopsPerSecond are lower bounds. */
  flopsLowerBound: boolean;
  /** flops / median latency, in GFLOP/s; null when the FLOPs are unknown. */
  gflopsPerSecond: number | null;
  /** Peak memory of the runtime's process (or page): per runtime, the same on each of its rows. */
  memory: MemoryReading | null;
  /** Agreement with the reference runtime on the same seeded input. */
  agreement: Agreement | null;
}

/** Per (runtime, batch) bookkeeping while the benchmark runs. */
export interface Cell {
  batch: number;
  firstMs?: number;
  times: number[];
  agreement?: Agreement;
  error?: string;
  /** Stopped adding timed runs (time budget reached). */
  done: boolean;
}

/** A runtime while the benchmark runs. */
export interface RuntimeState {
  runtime: BenchRuntime;
  worker?: RuntimeWorker;
  status: 'ready' | 'skipped' | 'failed';
  reason?: string;
  detail?: string;
  threads: number | null;
  creationMs: number | null;
  memory: MemoryReading | null;
  cells: Map<number, Cell>;
}

/** What {@link openRuntime} opens and with what. */
export interface OpenContext {
  artifact: BenchArtifact;
  /** Run folder of the tfjs model (tfjs runtimes are skipped without one). */
  runDir?: string;
  /** The artifact's run id, to say which run folder was looked for. */
  runId: string;
  /** Which part of the run the artifact is (tfjs runtimes). */
  part?: string;
  threads: number;
  launch: WorkerLaunchOptions;
  feedsByBatch: Map<number, Record<string, TypedHostTensor>>;
  logger: Logger;
}

async function startWorker(runtime: BenchRuntime, launch: WorkerLaunchOptions): Promise<RuntimeWorker> {
  if (BENCH_RUNTIMES[runtime].host === 'node') return startNodeWorker(launch.env);
  return startBrowserWorker(runtime as 'chromium-wasm' | 'chromium-webgpu', { chromiumPath: launch.chromiumPath, webModuleFile: launch.webModuleFile });
}

/** Start a runtime's worker and open the model; unavailable runtimes come back as skipped. */
export async function openRuntime(runtime: BenchRuntime, ctx: OpenContext): Promise<RuntimeState> {
  const state: RuntimeState = { runtime, status: 'skipped', threads: null, creationMs: null, memory: null, cells: new Map() };
  const isTfjs = BENCH_RUNTIMES[runtime].model === 'tfjs';
  if (isTfjs && !ctx.runDir) {
    state.reason = ctx.runId
      ? `the original tfjs model was not found: no run folder '${ctx.runId}' (the artifact's runId) next to the artifact or under ./runs; pass --run <dir>`
      : 'the artifact names no run (no aekit runId metadata); pass --run <dir> to compare with the tfjs model';
    ctx.logger.info(`${runtime}: skipped (${state.reason})`);
    return state;
  }
  ctx.logger.info(`${runtime}: opening`);
  let worker: RuntimeWorker;
  try {
    worker = await startWorker(runtime, ctx.launch);
  } catch (error) {
    state.reason = firstLine(error);
    ctx.logger.info(`${runtime}: skipped (${state.reason})`);
    return state;
  }
  try {
    const opened = await worker.open({ runtime, onnxPath: path.resolve(ctx.artifact.path), runDir: ctx.runDir, part: ctx.part, threads: ctx.threads });
    if (opened.status === 'unavailable') {
      state.reason = opened.reason;
      ctx.logger.info(`${runtime}: skipped (${opened.reason})`);
      await worker.kill();
      return state;
    }
    for (const [batch, feeds] of ctx.feedsByBatch) await worker.setInputs(batch, feeds);
    Object.assign(state, { worker, status: 'ready', detail: opened.detail, threads: opened.threads, creationMs: opened.creationMs });
    for (const batch of ctx.feedsByBatch.keys()) state.cells.set(batch, { batch, times: [], done: false });
    ctx.logger.info(`${runtime}: ready in ${opened.creationMs.toFixed(0)} ms (${opened.detail})`);
  } catch (error) {
    Object.assign(state, { status: 'failed', reason: firstLine(error) });
    ctx.logger.warn(`${runtime}: failed to open: ${state.reason}`);
    await worker.kill();
  }
  return state;
}

/** Record a failed run; a dead worker fails every remaining batch of its runtime. */
export async function failRun(state: RuntimeState, cell: Cell, error: unknown): Promise<void> {
  const message = firstLine(error);
  cell.error = message;
  if (/worker process exited|browser has been closed|Target closed|crashed/i.test(message)) {
    for (const other of state.cells.values()) other.error ??= message;
    state.status = 'failed';
    state.reason = message;
    await state.worker?.kill();
  }
}

/** Close a ready runtime's worker, keeping its peak memory; one that will not close is killed. */
export async function closeRuntime(state: RuntimeState, logger: Logger): Promise<void> {
  if (state.status !== 'ready' || !state.worker) return;
  try {
    state.memory = await state.worker.close();
  } catch (error) {
    logger.warn(`${state.runtime}: closing failed: ${firstLine(error)}`);
    await state.worker.kill();
  }
}

/** The report rows of a runtime: one per batch size, or a single row saying why it did not run. */
export function runtimeRows(state: RuntimeState, batches: readonly number[], flopsByBatch: Map<number, FlopCount>): BenchRow[] {
  if (state.status !== 'ready' && state.cells.size === 0) return [emptyRow(state)];
  return batches.map((batch) => cellRow(state, state.cells.get(batch)!, flopsByBatch.get(batch)!));
}

function emptyRow(state: RuntimeState): BenchRow {
  return {
    runtime: state.runtime,
    batch: null,
    status: state.status === 'ready' ? 'failed' : state.status,
    reason: state.reason,
    detail: state.detail,
    threads: state.threads,
    creationMs: state.creationMs,
    firstInferenceMs: null,
    latencyMs: null,
    imagesPerSecond: null,
    flops: null,
    flopsLowerBound: false,
    gflopsPerSecond: null,
    memory: null,
    agreement: null,
  };
}

function cellRow(state: RuntimeState, cell: Cell, count: FlopCount): BenchRow {
  const latency = cell.times.length > 0 ? summarise(cell.times) : null;
  const { flops, lowerBound } = knownFlops(count);
  const failed = cell.error !== undefined;
  return {
    runtime: state.runtime,
    batch: cell.batch,
    status: failed ? 'failed' : 'ok',
    ...(failed ? { reason: cell.error } : {}),
    detail: state.detail,
    threads: state.threads,
    creationMs: state.creationMs,
    firstInferenceMs: cell.firstMs ?? null,
    latencyMs: latency,
    imagesPerSecond: latency ? cell.batch / (latency.p50 / 1000) : null,
    flops,
    flopsLowerBound: lowerBound,
    gflopsPerSecond: latency && flops !== null ? flops / (latency.p50 / 1000) / 1e9 : null,
    memory: state.memory,
    agreement: cell.agreement ?? null,
  };
}
