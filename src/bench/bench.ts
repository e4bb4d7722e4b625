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
 *
 * Models from other tools are run as they are: their inputs in their own element types, symbolic
 * dimensions bound as dims.ts says, and a batch size a model cannot run (a fixed batch dimension,
 * or one the reference runtime fails on) refused with the reason instead of being timed.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { AEKIT_VERSION } from '../core/version';
import type { TypedHostTensor } from '../artifact/runtime';
import type { Tolerance } from '../core/allclose';
import { AGREEMENT_TOLERANCE, compareOutputs, referenceOutputs } from './agreement';
import type { Agreement } from './agreement';
import { findRunFolder, resolveArtifact } from './artifact-source';
import { batchPlan, bindShape, checkDimSizes } from './dims';
import type { RefusedBatch } from './dims';
import { countFlops, knownFlops } from './flops';
import type { FlopCount } from './flops';
import { benchInputs, describeBenchArtifact } from './inputs';
import type { GraphTensor } from './inputs';
import { machineInfo } from './machine';
import type { MachineInfo } from './machine';
import { closeRuntime, failRun, openRuntime, runtimeRows } from './runtime-state';
import type { BenchRow, RuntimeState, WorkerLaunchOptions } from './runtime-state';
import { BENCH_RUNTIME_NAMES, REFERENCE_RUNTIME, checkBenchRuntime } from './runtimes';
import type { BenchRuntime } from './runtimes';
import type { OutputTensor } from './worker';

/** Version of the JSON report's layout. */
export const BENCH_REPORT_SCHEMA = 'aekit-bench/2';

/** Defaults of {@link BenchOptions}, as documented in `aekit bench --help`. */
export const BENCH_DEFAULTS = Object.freeze({
  batches: Object.freeze([1, 16, 256]),
  warmup: 5,
  runs: 50,
  seed: 0,
});

/** Options of {@link benchmark}. */
export interface BenchOptions extends WorkerLaunchOptions {
  /** Runtimes to compare (default: every one of BENCH_RUNTIMES; unavailable ones become skipped rows). */
  runtimes?: BenchRuntime[];
  /**
   * Batch sizes (default 1, 16, 256; for a model whose batch is fixed, that batch). Sizes a model
   * cannot run are refused with the reason ({@link BenchReport.refusedBatches}).
   */
  batches?: number[];
  /** Sizes of symbolic input dimensions other than the batch, by name (`--dim seq=128`); see dims.ts. */
  dims?: Record<string, number>;
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
  tolerance?: Tolerance;
  logger?: Logger;
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
    /** The one batch size the model runs at (no symbolic batch dimension), or null when it takes any. */
    fixedBatch: number | null;
    /**
     * FLOPs of one image (at batch 1, or the fixed batch divided by its size); null when unknown
     * (nodes the counter could not size and nothing counted).
     */
    flopsPerImage: number | null;
    /** flopsPerImage leaves out the nodes in flopsUncounted: it is a lower bound. */
    flopsLowerBound: boolean;
    /** `opType (node)` of the nodes the counter could not size. */
    flopsUncounted: string[];
  };
  /** Run folder of the tfjs rows (null when none was found). */
  runDir: string | null;
  settings: {
    runtimes: BenchRuntime[];
    /** Batch sizes measured (those asked for that the model can run). */
    batches: number[];
    /** Sizes given to symbolic dimensions other than the batch. */
    dims: Record<string, number>;
    threads: number;
    warmup: number;
    runs: number;
    maxSeconds: number | null;
    seed: number;
    tolerance: Tolerance;
    reference: BenchRuntime;
  };
  machine: MachineInfo;
  /** Batch sizes asked for that the model cannot run, with the reason; no runtime was timed on them. */
  refusedBatches: RefusedBatch[];
  rows: BenchRow[];
}

/** Fewest timed runs kept when {@link BenchOptions.maxSeconds} cuts a cell short. */
const MIN_TIMED_RUNS = 3;

function positiveInt(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) throw new AekitError('BAD_ARGUMENT', `expected a positive whole number, found ${value}`, { where: field });
  return value;
}

/**
 * The settings of a benchmark: the options checked, defaults filled in; `batches` are the sizes
 * asked for (undefined: not asked), which {@link batchPlan} narrows to what the model can run.
 */
function benchSettings(options: BenchOptions): Omit<BenchReport['settings'], 'batches'> & { batches: number[] | undefined } {
  const runtimes = [...new Set((options.runtimes ?? [...BENCH_RUNTIME_NAMES]).map(checkBenchRuntime))];
  const batches = options.batches && [...new Set(options.batches.map((b) => positiveInt(b, '--batch')))];
  const threads = positiveInt(options.threads ?? os.availableParallelism(), '--threads');
  const warmup = options.warmup ?? BENCH_DEFAULTS.warmup;
  if (!Number.isInteger(warmup) || warmup < 0) throw new AekitError('BAD_ARGUMENT', `expected a whole number >= 0, found ${warmup}`, { where: '--warmup' });
  const runs = positiveInt(options.runs ?? BENCH_DEFAULTS.runs, '--runs');
  if (options.maxSeconds !== undefined && !(options.maxSeconds > 0)) throw new AekitError('BAD_ARGUMENT', `expected a positive number of seconds, found ${options.maxSeconds}`, { where: '--max-seconds' });
  const seed = options.seed ?? BENCH_DEFAULTS.seed;
  const tolerance = options.tolerance ?? AGREEMENT_TOLERANCE;
  const dims = { ...(options.dims ?? {}) };
  for (const [name, size] of Object.entries(dims)) positiveInt(size, `--dim ${name}`);
  return { runtimes, batches, dims, threads, warmup, runs, maxSeconds: options.maxSeconds ?? null, seed, tolerance, reference: REFERENCE_RUNTIME };
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
  const asked = benchSettings(options);
  const { threads, seed, dims } = asked;

  const resolved = await resolveArtifact(location, options, logger);
  try {
    const bytes = new Uint8Array(await fs.readFile(resolved.artifactPath));
    const artifact = describeBenchArtifact(resolved.artifactPath, bytes);
    // Files from other tools have no aekit description: no run, part or family to report.
    const runId = artifact.info?.metadata.runId ?? '';
    const part = artifact.info?.part;
    const runDir = resolved.runDir ?? (await findRunFolder(resolved.artifactPath, runId));
    checkDimSizes(artifact.inputs, dims, resolved.artifactPath);
    const plan = batchPlan(artifact.inputs, asked.batches, BENCH_DEFAULTS.batches, dims, resolved.artifactPath);
    if (plan.fixedBatch !== null) logger.info(`the model runs batch ${plan.fixedBatch} only (${plan.fixedBy})`);
    for (const { batch, reason } of plan.refused) logger.warn(`batch ${batch} refused: ${reason}`);
    const shapesAt = (batch: number) => Object.fromEntries(artifact.inputs.map((input) => [input.name, bindShape(input, batch, dims, resolved.artifactPath)]));
    const feedsByBatch = new Map<number, Record<string, TypedHostTensor>>(plan.batches.map((b) => [b, benchInputs(artifact, b, seed, dims)]));
    const reference = await referenceOutputs(artifact, feedsByBatch);
    // A batch the reference cannot run (a batch fixed inside the graph) is refused, not timed.
    const refused = [...plan.refused];
    for (const [batch, error] of reference.failed) {
      refused.push({ batch, reason: `the reference runtime ${REFERENCE_RUNTIME} cannot run batch ${batch}: ${error}` });
      logger.warn(`batch ${batch} refused: ${refused[refused.length - 1].reason}`);
      feedsByBatch.delete(batch);
    }
    const batches = plan.batches.filter((b) => feedsByBatch.has(b));
    const settings: BenchReport['settings'] = { ...asked, batches };
    const flopsByBatch = new Map<number, FlopCount>(batches.map((b) => [b, countFlops(artifact.model, { inputShapes: shapesAt(b) })]));
    const imagesPerRun = plan.fixedBatch ?? 1;
    const perRun = knownFlops(countFlops(artifact.model, { inputShapes: shapesAt(imagesPerRun) }));

    const states: RuntimeState[] = [];
    for (const runtime of settings.runtimes) {
      states.push(await openRuntime(runtime, { artifact, runDir, runId, part, threads, launch: options, feedsByBatch, logger }));
    }
    await measure(states, reference.outputs, settings, logger);
    for (const state of states) await closeRuntime(state, logger);

    return {
      schema: BENCH_REPORT_SCHEMA,
      aekitVersion: AEKIT_VERSION,
      createdAt: new Date().toISOString(),
      model: {
        path: path.resolve(location),
        bytes: bytes.length,
        ...(artifact.info ? { family: artifact.info.family } : {}),
        ...(part ? { part } : {}),
        ...(runId ? { runId } : {}),
        inputs: artifact.inputs,
        outputs: artifact.outputs,
        fixedBatch: plan.fixedBatch,
        flopsPerImage: perRun.flops === null ? null : perRun.flops / imagesPerRun,
        flopsLowerBound: perRun.lowerBound,
        flopsUncounted: perRun.uncounted,
      },
      runDir: runDir ? path.resolve(runDir) : null,
      settings,
      machine: machineInfo(loadStart),
      refusedBatches: refused.sort((a, b) => a.batch - b.batch),
      rows: states.flatMap((state) => runtimeRows(state, batches, flopsByBatch)),
    };
  } finally {
    await resolved.cleanup?.();
  }
}

/**
 * The measurement itself: the first run of every ready runtime at each batch size (its outputs
 * compared with the reference), then the warm-up and timed rounds, interleaved.
 */
async function measure(states: RuntimeState[], reference: Map<number, Record<string, OutputTensor>>, settings: BenchReport['settings'], logger: Logger): Promise<void> {
  const { batches, warmup, runs, maxSeconds, tolerance } = settings;
  for (const batch of batches) {
    for (const state of states.filter((s) => s.status === 'ready')) {
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
          if (maxSeconds !== null && spent >= maxSeconds && cell.times.length >= MIN_TIMED_RUNS) cell.done = true;
        } catch (error) {
          await failRun(state, cell, error);
        }
      }
    }
  }
}
