/**
 * `aekit bench`'s library half: run one artifact on every runtime asked for, interleaved round-robin
 * so that drift on a shared machine hits all of them alike, and report creation time, first and
 * steady-state latency, throughput, achieved GFLOP/s, peak memory and numerical agreement with
 * onnxruntime-node's CPU provider.
 *
 * Method, per runtime: open (timed: creation), then per batch size one first run (timed: first
 * inference; its outputs are compared with the reference), then `warmup` untimed rounds, then
 * `runs` timed rounds. A round calls every (batch size, runtime) pair once, runtimes innermost.
 * Each runtime lives in a process (or browser page) of its own, so it never shares memory, threads
 * or global state with another, and a crash or a missing driver becomes a row, not an exception.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { useBackend } from '../core/tfjs-backend';
import { AEKIT_VERSION } from '../core/version';
import { exportRun } from '../export/run-export';
import { openOrtSession } from '../artifact/runtime';
import type { HostTensor } from '../artifact/runtime';
import { getFamily } from '../models';
import { findCheckpoint, loadCheckpoint } from '../run/checkpoint';
import { startBrowserWorker } from './browser-runner';
import { countFlops } from './flops';
import type { FlopCount } from './flops';
import { benchInputs, describeBenchArtifact } from './inputs';
import type { BenchArtifact, GraphTensor } from './inputs';
import { startNodeWorker } from './node-runner';
import { BENCH_RUNTIMES, BENCH_RUNTIME_NAMES, REFERENCE_RUNTIME, checkBenchRuntime } from './runtimes';
import type { BenchRuntime } from './runtimes';
import { summarise } from './stats';
import type { LatencySummary } from './stats';
import type { MemoryReading, OutputTensor, RuntimeWorker } from './worker';

/**
 * Largest |output - reference output| a runtime may show before its row is flagged. float32 runs
 * of the same graph differ by reassociation noise (~1e-6 on aekit models, see export's
 * FP32_TOLERANCE of 1e-4 against tfjs); 1e-3 is the agreement bound the bench issue sets, wide
 * enough for GPU kernels, tight enough to catch a wrong weight or layout.
 */
export const AGREEMENT_TOLERANCE = 1e-3;

/** Version of the JSON report's layout. */
export const BENCH_REPORT_SCHEMA = 'aekit-bench/1';

/** Defaults of {@link BenchOptions}, as documented in `aekit bench --help`. */
export const BENCH_DEFAULTS = Object.freeze({
  batches: Object.freeze([1, 16, 256]),
  warmup: 5,
  runs: 50,
  seed: 0,
});

/** Options of {@link benchmark}. */
export interface BenchOptions {
  /** Runtimes to compare (default: every one of {@link BENCH_RUNTIMES}; unavailable ones become skipped rows). */
  runtimes?: BenchRuntime[];
  /** Batch sizes (default 1, 16, 256). */
  batches?: number[];
  /** Threads for the runtimes that take a count (default: the machine's available parallelism). */
  threads?: number;
  /** Untimed rounds after the first run (default 5). */
  warmup?: number;
  /** Timed rounds (default 50). */
  runs?: number;
  /**
   * Stop timing a (runtime, batch) pair once its timed runs add up to this many seconds (at least
   * 3 runs are kept): slow software GPUs would otherwise hold the benchmark for minutes.
   */
  maxSeconds?: number;
  /** Run folder (or checkpoint) of the artifact's tfjs model; found from the metadata's runId when left out. */
  runDir?: string;
  /** Part to export when `location` is a run folder (default: decoder when the family has one). */
  part?: string;
  /** Seed of the inputs (default 0). */
  seed?: number;
  /** Agreement tolerance (default {@link AGREEMENT_TOLERANCE}). */
  tolerance?: number;
  /** Environment of the Node worker processes (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Chromium to launch for the browser rows (default /usr/bin/chromium, or AEKIT_CHROMIUM). */
  chromiumPath?: string;
  /** aekit's built browser module for the browser rows (default dist/web/aekit-web.js). */
  webModuleFile?: string;
  logger?: Logger;
}

/** Agreement of a runtime's outputs with the reference at one batch size. */
export interface Agreement {
  /** Max |output - reference| over every output (Infinity, null in JSON, when not comparable). */
  maxAbsDiff: number;
  tolerance: number;
  /** maxAbsDiff <= tolerance. */
  ok: boolean;
  /** Why the outputs could not be compared element by element (missing output, other shape). */
  note?: string;
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
  /** FLOPs of one run at this batch size (counted from the ONNX graph). */
  flops: number | null;
  /** flops / median latency, in GFLOP/s. */
  gflopsPerSecond: number | null;
  /** Peak memory of the runtime's process (or page): per runtime, the same on each of its rows. */
  memory: MemoryReading | null;
  /** Agreement with {@link REFERENCE_RUNTIME} on the same seeded input. */
  agreement: Agreement | null;
}

/** The machine the figures come from. */
export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  totalMemoryBytes: number;
  platform: string;
  release: string;
  node: string;
  /** 1, 5 and 15-minute load averages when the benchmark started and ended. */
  loadAverage: { start: number[]; end: number[] };
}

/** What {@link benchmark} measured; the JSON report is this object. */
export interface BenchReport {
  schema: typeof BENCH_REPORT_SCHEMA;
  aekitVersion: string;
  createdAt: string;
  model: {
    path: string;
    bytes: number;
    family?: string;
    part?: string;
    runId?: string;
    inputs: GraphTensor[];
    outputs: GraphTensor[];
    /** FLOPs of one image (batch 1) and op types the counter left out. */
    flopsPerImage: number;
    flopsUncounted: string[];
  };
  /** Run folder of the tfjs rows (null when none was found). */
  runDir: string | null;
  settings: { runtimes: BenchRuntime[]; batches: number[]; threads: number; warmup: number; runs: number; maxSeconds: number | null; seed: number; tolerance: number; reference: BenchRuntime };
  machine: MachineInfo;
  rows: BenchRow[];
}

/** Per (runtime, batch) bookkeeping while the benchmark runs. */
interface Cell {
  batch: number;
  firstMs?: number;
  times: number[];
  agreement?: Agreement;
  error?: string;
  /** Stopped adding timed runs (time budget reached). */
  done: boolean;
}

interface RuntimeState {
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

/** Fewest timed runs kept when {@link BenchOptions.maxSeconds} cuts a cell short. */
const MIN_TIMED_RUNS = 3;

function positiveInt(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) throw new AekitError('BAD_ARGUMENT', `expected a positive whole number, found ${value}`, { where: field });
  return value;
}

/**
 * Find the run folder an artifact came from: a folder named after the metadata's `runId` among the
 * artifact's ancestors (runs/<id>/onnx/decoder.onnx) or under ./runs, holding a checkpoint.
 */
export async function findRunFolder(artifactPath: string, runId: string, cwd = process.cwd()): Promise<string | undefined> {
  if (!runId) return undefined;
  const candidates: string[] = [];
  let dir = path.dirname(path.resolve(artifactPath));
  for (let depth = 0; depth < 4; depth++) {
    if (path.basename(dir) === runId) candidates.push(dir);
    candidates.push(path.join(dir, runId), path.join(dir, 'runs', runId));
    dir = path.dirname(dir);
  }
  candidates.push(path.join(cwd, 'runs', runId));
  for (const candidate of candidates) {
    try {
      await findCheckpoint(candidate);
      return candidate;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

/** Max |a - b| over every output of the reference; NaN counts as infinitely far. */
export function compareOutputs(got: Record<string, OutputTensor>, reference: Record<string, OutputTensor>, tolerance: number): Agreement {
  let worst = 0;
  const notes: string[] = [];
  for (const [name, want] of Object.entries(reference)) {
    const have = got[name];
    if (!have) {
      notes.push(`output '${name}' missing`);
      worst = Infinity;
      continue;
    }
    if (have.dims.join(',') !== want.dims.join(',')) {
      notes.push(`output '${name}' has shape [${have.dims.join(', ')}], reference [${want.dims.join(', ')}]`);
      worst = Infinity;
      continue;
    }
    for (let i = 0; i < want.data.length; i++) {
      const d = Math.abs(have.data[i] - want.data[i]);
      if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
    }
  }
  return { maxAbsDiff: worst, tolerance, ok: worst <= tolerance, ...(notes.length ? { note: notes.join('; ') } : {}) };
}

function machineInfo(loadStart: number[]): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.arch()}`,
    release: os.release(),
    node: process.version,
    loadAverage: { start: loadStart, end: os.loadavg() },
  };
}

/** The artifact to benchmark: the file given, or the part of a run exported to a temporary file. */
async function resolveArtifact(location: string, options: BenchOptions, logger: Logger): Promise<{ artifactPath: string; runDir?: string; cleanup?: () => Promise<void> }> {
  let stat;
  try {
    stat = await fs.stat(location);
  } catch {
    throw new AekitError('FILE_NOT_FOUND', 'no such ONNX file or run folder', { where: location });
  }
  if (stat.isFile()) return { artifactPath: location, runDir: options.runDir };
  // A run folder or checkpoint: export the part the user names (the decoder by default) to a temp file.
  await useBackend('auto');
  const loaded = await loadCheckpoint(location);
  const family = getFamily(loaded.model.config.family);
  loaded.model.dispose();
  const part = options.part ?? (family.exportParts.includes('decoder') ? 'decoder' : family.exportParts[0]);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-bench-'));
  const artifactPath = path.join(tmp, `${part}.onnx`);
  logger.info(`exporting the ${part} of ${location} to ${artifactPath}`);
  await exportRun(location, { out: artifactPath, parts: [part as never], verify: false });
  return { artifactPath, runDir: options.runDir ?? location, cleanup: () => fs.rm(tmp, { recursive: true, force: true }) };
}

async function startWorker(runtime: BenchRuntime, options: BenchOptions): Promise<RuntimeWorker> {
  if (BENCH_RUNTIMES[runtime].host === 'node') return startNodeWorker(options.env);
  return startBrowserWorker(runtime as 'chromium-wasm' | 'chromium-webgpu', { chromiumPath: options.chromiumPath, webModuleFile: options.webModuleFile });
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n').find((l) => l.trim() !== '') ?? message).trim();
}

/**
 * Benchmark an ONNX artifact (or the part of a run folder) on several runtimes.
 *
 * @throws AekitError when the artifact cannot be read or does not run on onnxruntime-node's CPU
 *   provider (the reference); every other runtime's failure becomes a row.
 */
export async function benchmark(location: string, options: BenchOptions = {}): Promise<BenchReport> {
  const logger = options.logger ?? silentLogger;
  const loadStart = os.loadavg();
  const runtimes = [...new Set((options.runtimes ?? [...BENCH_RUNTIME_NAMES]).map(checkBenchRuntime))];
  const batches = [...new Set((options.batches ?? [...BENCH_DEFAULTS.batches]).map((b) => positiveInt(b, '--batch')))];
  const threads = positiveInt(options.threads ?? os.availableParallelism(), '--threads');
  const warmup = options.warmup ?? BENCH_DEFAULTS.warmup;
  if (!Number.isInteger(warmup) || warmup < 0) throw new AekitError('BAD_ARGUMENT', `expected a whole number >= 0, found ${warmup}`, { where: '--warmup' });
  const runs = positiveInt(options.runs ?? BENCH_DEFAULTS.runs, '--runs');
  const seed = options.seed ?? BENCH_DEFAULTS.seed;
  const tolerance = options.tolerance ?? AGREEMENT_TOLERANCE;
  if (options.maxSeconds !== undefined && !(options.maxSeconds > 0)) throw new AekitError('BAD_ARGUMENT', `expected a positive number of seconds, found ${options.maxSeconds}`, { where: '--max-seconds' });

  const resolved = await resolveArtifact(location, options, logger);
  try {
    const bytes = new Uint8Array(await fs.readFile(resolved.artifactPath));
    const artifact = describeBenchArtifact(resolved.artifactPath, bytes);
    const runId = typeof artifact.metadata.runId === 'string' ? artifact.metadata.runId : '';
    const runDir = resolved.runDir ?? (await findRunFolder(resolved.artifactPath, runId));
    const part = typeof artifact.metadata.part === 'string' ? artifact.metadata.part : undefined;
    const flopsByBatch = new Map<number, FlopCount>(batches.map((b) => [b, countFlops(artifact.model, { batch: b })]));
    const perImage = countFlops(artifact.model, { batch: 1 });
    const feedsByBatch = new Map<number, Record<string, HostTensor>>(batches.map((b) => [b, benchInputs(artifact, b, seed)]));
    const reference = await referenceOutputs(artifact, feedsByBatch);

    const states: RuntimeState[] = [];
    for (const runtime of runtimes) {
      states.push(await openRuntime(runtime, { artifact, runDir, runId, part, threads, options, feedsByBatch, logger }));
    }
    const ready = () => states.filter((s) => s.status === 'ready');

    // First inference at each batch size; its outputs are the ones compared with the reference.
    for (const batch of batches) {
      for (const state of ready()) {
        const cell = state.cells.get(batch)!;
        try {
          const result = await state.worker!.run(batch, true);
          cell.firstMs = result.ms;
          cell.agreement = compareOutputs(result.outputs ?? {}, reference.get(batch)!, tolerance);
        } catch (error) {
          await failRun(state, cell, error);
        }
      }
    }
    const live = (state: RuntimeState, batch: number) => state.status === 'ready' && !state.cells.get(batch)!.error;
    for (let round = 0; round < warmup + runs; round++) {
      const timed = round >= warmup;
      if (round === warmup || (timed && (round - warmup + 1) % 10 === 0)) logger.info(timed ? `timed round ${round - warmup + 1}/${runs}` : `warm-up done (${warmup} rounds)`);
      for (const batch of batches) {
        for (const state of states) {
          if (!live(state, batch)) continue;
          const cell = state.cells.get(batch)!;
          if (timed && cell.done) continue;
          try {
            const result = await state.worker!.run(batch, false);
            if (!timed) continue;
            cell.times.push(result.ms);
            const spent = cell.times.reduce((a, b) => a + b, 0) / 1000;
            if (options.maxSeconds !== undefined && spent >= options.maxSeconds && cell.times.length >= MIN_TIMED_RUNS) cell.done = true;
          } catch (error) {
            await failRun(state, cell, error);
          }
        }
      }
    }
    for (const state of states) {
      if (state.status !== 'ready' || !state.worker) continue;
      try {
        state.memory = await state.worker.close();
      } catch (error) {
        logger.warn(`${state.runtime}: closing failed: ${firstLine(error)}`);
        await state.worker.kill();
      }
    }

    const rows: BenchRow[] = [];
    for (const state of states) {
      if (state.status !== 'ready' && state.cells.size === 0) {
        rows.push(emptyRow(state));
        continue;
      }
      for (const batch of batches) rows.push(cellRow(state, state.cells.get(batch)!, flopsByBatch.get(batch)!));
    }
    return {
      schema: BENCH_REPORT_SCHEMA,
      aekitVersion: AEKIT_VERSION,
      createdAt: new Date().toISOString(),
      model: {
        path: path.resolve(location),
        bytes: bytes.length,
        ...(typeof artifact.metadata.family === 'string' ? { family: artifact.metadata.family } : {}),
        ...(part ? { part } : {}),
        ...(runId ? { runId } : {}),
        inputs: artifact.inputs,
        outputs: artifact.outputs,
        flopsPerImage: perImage.total,
        flopsUncounted: perImage.uncounted,
      },
      runDir: runDir ? path.resolve(runDir) : null,
      settings: { runtimes, batches, threads, warmup, runs, maxSeconds: options.maxSeconds ?? null, seed, tolerance, reference: REFERENCE_RUNTIME },
      machine: machineInfo(loadStart),
      rows,
    };
  } finally {
    await resolved.cleanup?.();
  }
}

/** The reference outputs (onnxruntime-node, CPU) at every batch size, computed in this process. */
async function referenceOutputs(artifact: BenchArtifact, feedsByBatch: Map<number, Record<string, HostTensor>>): Promise<Map<number, Record<string, OutputTensor>>> {
  let session;
  try {
    session = await openOrtSession('ort-node-cpu', artifact.bytes);
  } catch (error) {
    throw new AekitError('BAD_DATA', `the reference runtime ${REFERENCE_RUNTIME} cannot load the model: ${firstLine(error)}`, { where: artifact.path, cause: error });
  }
  try {
    const out = new Map<number, Record<string, OutputTensor>>();
    for (const [batch, feeds] of feedsByBatch) {
      const results = await session.run(feeds);
      out.set(batch, Object.fromEntries(results.map((r) => [r.name, { data: r.data, dims: r.dims }])));
    }
    return out;
  } catch (error) {
    throw new AekitError('BAD_DATA', `the reference runtime ${REFERENCE_RUNTIME} cannot run the model: ${firstLine(error)}`, { where: artifact.path, cause: error });
  } finally {
    await session.release();
  }
}

interface OpenContext {
  artifact: BenchArtifact;
  runDir?: string;
  runId: string;
  part?: string;
  threads: number;
  options: BenchOptions;
  feedsByBatch: Map<number, Record<string, HostTensor>>;
  logger: Logger;
}

/** Start a runtime's worker and open the model; unavailable runtimes come back as skipped. */
async function openRuntime(runtime: BenchRuntime, ctx: OpenContext): Promise<RuntimeState> {
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
    worker = await startWorker(runtime, ctx.options);
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
async function failRun(state: RuntimeState, cell: Cell, error: unknown): Promise<void> {
  const message = firstLine(error);
  cell.error = message;
  if (/worker process exited|browser has been closed|Target closed|crashed/i.test(message)) {
    for (const other of state.cells.values()) other.error ??= message;
    state.status = 'failed';
    state.reason = message;
    await state.worker?.kill();
  }
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
    gflopsPerSecond: null,
    memory: null,
    agreement: null,
  };
}

function cellRow(state: RuntimeState, cell: Cell, flops: FlopCount): BenchRow {
  const latency = cell.times.length > 0 ? summarise(cell.times) : null;
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
    flops: flops.total,
    gflopsPerSecond: latency ? flops.total / (latency.p50 / 1000) / 1e9 : null,
    memory: state.memory,
    agreement: cell.agreement ?? null,
  };
}
