/**
 * The training loop: seeded data order (every image each epoch, the last batch smaller),
 * exponential lr schedule, KL warm-up, a NaN/Inf guard, atomic checkpoints, and exact resume (from
 * an epoch checkpoint or one taken mid-epoch on interrupt). An epoch's training is checkpointed
 * before its validation runs, and a run that fails records the error in run.json (status
 * 'failed'). A step is the engine's (./engines: tfjs or ort, gradient clipping and Adam
 * included); the data comes from ./data.ts and the end-of-epoch reports (validation, sample
 * grids, loss curve) from ./epoch-report.ts. The library never prints: progress goes to
 * `onEvent` and the logger.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { Rng } from '../core/rng';
import { useBackend } from '../core/tfjs-backend';
import type { BackendChoice } from '../core/tfjs-backend';
import { AEKIT_VERSION } from '../core/version';
import { batches, epochOrder } from '../data';
import { getFamily } from '../models';
import type { FamilyModel, StepContext } from '../models';
import { countParameters } from '../models/layers';
import { saveCheckpoint } from '../run/checkpoint';
import type { EpochSoFar, TrainerState } from '../run/checkpoint';
import { resolveRunConfig } from '../run/config';
import { checkRunData } from '../run/data-check';
import type { RunConfig } from '../run/config';
import { RunFolder } from '../run/run-folder';
import type { EpochRecord, MetricsRecord } from '../run/run-folder';
import { describeError, finishRunInfo, trainerIdentity } from '../run/run-info';
import { cyclicRows, prepareData, prepareDomainB } from './data';
import { assertEngineSupports, autoPicksTfjs, createEngine, resolveEngine } from './engines';
import type { EngineChoice, EngineName, EngineSetup, TrainingEngine } from './engines';
import { checkFiniteRecord, nonFiniteError } from './divergence';
import { epochLabel, EpochMeter, EpochReporter } from './epoch-report';
import type { EpochTraining, SampleMetricsHook } from './epoch-report';
import { exponentialLr, warmedUpBeta } from './optim';
import { checkRunFolder, freshRun, openRunFolder, resumedRun } from './run-start';
import { SEED_STREAMS } from './seeds';

export { primaryMetric } from './epoch-report';
export type { SampledImages, SampleMetricsHook } from './epoch-report';

/** Events the trainer emits (the CLI turns them into a progress bar or log lines). */
export type TrainEvent =
  | {
      type: 'start';
      runDir: string;
      backend: BackendChoice;
      /** The engine asked for (`train.engine`, 'auto' by default) and the one it resolved to. */
      engineChoice: EngineChoice;
      engine: EngineName;
      /**
       * Where and how the engine runs (the ort engine: its onnxruntime runtime and Adam placement),
       * or why 'auto' picked tfjs.
       */
      engineDetail?: string;
      family: string;
      parameters: number;
      trainCount: number;
      validationCount: number;
      /** Images per step: `train.batchSize`, or the training set's size when that is smaller. */
      batchSize: number;
      /** Steps per epoch, the last one smaller when the batch size does not divide the training set. */
      stepsPerEpoch: number;
      epochs: number;
      startEpoch: number;
      resumedFrom?: string;
    }
  | {
      type: 'step';
      epoch: number;
      epochs: number;
      stepInEpoch: number;
      stepsPerEpoch: number;
      step: number;
      terms: Record<string, number>;
      lr: number;
      samplesPerSecond: number;
    }
  | { type: 'epoch'; record: EpochRecord; epochs: number }
  | { type: 'checkpoint'; dir: string; reason: TrainerState['reason'] };

/** Options of {@link train}. */
export interface TrainOptions {
  /**
   * Continue the run in `<outDir>/<name>` from its newest whole checkpoint (from the beginning,
   * with a warning, when it has none yet).
   */
  resume?: boolean;
  /**
   * With `resume`: continue from this checkpoint folder of the run instead (`<run>/checkpoints/<label>`);
   * the run's checkpoints further on are removed, as its metrics are cut back to that step.
   */
  resumeFrom?: string;
  /** Replace an existing run folder of the same name (otherwise that is an error). */
  overwrite?: boolean;
  logger?: Logger;
  onEvent?: (event: TrainEvent) => void;
  /** When aborted, training stops after the current step and writes an 'interrupted' checkpoint. */
  signal?: AbortSignal;
  /** Metrics of images sampled from the model at each epoch's end (e.g. FID during training). */
  sampleMetrics?: SampleMetricsHook;
}

/** What a finished (or interrupted) run produced. */
export interface TrainResult {
  runDir: string;
  config: RunConfig;
  backend: BackendChoice;
  engine: EngineName;
  epochsDone: number;
  steps: number;
  interrupted: boolean;
  lastEpoch?: EpochRecord;
  checkpointDir: string;
}

/**
 * Train a model from a run config (a parsed JSON object or an already resolved config).
 * With `resume`, continues the run of the same name from its latest checkpoint; `train.epochs` of
 * the given config may be larger than the original to train longer.
 */
export async function train(configInput: unknown, options: TrainOptions = {}): Promise<TrainResult> {
  const logger = options.logger ?? silentLogger;
  const emit = options.onEvent ?? (() => {});
  const config = resolveRunConfig(configInput);
  const folder = new RunFolder(path.join(config.outDir, config.name));
  assertEngineSupports(config.train.engine, config.model.family);
  // Data the family cannot learn from (a cvae on a flat folder) and a run folder that cannot be used
  // as asked are refused before any work; a resumed run's folder is repaired before its checkpoint is read.
  await checkRunData(config);
  await checkRunFolder(folder, options);
  const resumed = options.resume ? await openRunFolder(folder, options, logger) : undefined;

  const backend = await useBackend(config.train.backend);
  const data = await prepareData(config);
  for (const note of data.notes) logger.warn(note);
  const batchSize = trainingBatchSize(config, data.train.count, logger);
  const family = getFamily(config.model.family);
  const seed = config.train.seed;
  const modelSeed = Rng.derive(seed, SEED_STREAMS.model).seed();
  const start = options.resume ? await resumedRun(folder, config, options.resumeFrom, logger, () => family.build(family.configSchema.parse(config.model), data.shape, modelSeed)) : freshRun(family.build(family.configSchema.parse(config.model), data.shape, modelSeed));
  // Only now, with the data read and the model built, is a new run's folder made (or an old one replaced).
  const previous = options.resume ? resumed : await openRunFolder(folder, options, logger);
  const { model, savedOptimizers, resumedFrom, records } = start;
  let state = start.state;
  const domainB = model.domainB ? await prepareDomainB(model.domainB, config, data.shape) : undefined;
  const setup: EngineSetup = { model, shape: data.shape, batchSize, adam: config.train.adam, clipNorm: config.train.clipNorm, threads: config.train.ortThreads, parallel: config.train.ortParallel, runtime: config.train.ortRuntime, savedOptimizers, logger };
  const engine = await startEngine(config, backend, setup, folder, options.resume ?? false);
  await folder.writeJson(folder.configPath, config);
  await folder.writeJson(folder.runInfoPath, {
    aekitVersion: AEKIT_VERSION,
    backend: backend.name,
    engineChoice: config.train.engine,
    engine: engine.name,
    ...(engine.detail ? { engineDetail: engine.detail } : {}),
    backendsSkipped: backend.skipped,
    startedAt: new Date().toISOString(),
    resumedFrom: resumedFrom ?? null,
    ...(previous ? { previous: { status: previous.status, startedAt: previous.startedAt, finishedAt: previous.finishedAt } } : {}),
    status: 'running',
    ...trainerIdentity(),
  });

  // Every image trains each epoch: the last batch is smaller when the batch size does not divide
  // the set (PyTorch's DataLoader default, drop_last=False).
  const stepsPerEpoch = Math.min(Math.ceil(data.train.count / batchSize), config.train.stepsPerEpoch ?? Infinity);
  const warmupSteps = Math.round(config.train.betaWarmupEpochs * stepsPerEpoch);
  const epochs = config.train.epochs;
  emit({
    type: 'start',
    runDir: folder.dir,
    backend,
    engineChoice: config.train.engine,
    engine: engine.name,
    engineDetail: engine.detail,
    family: family.name,
    parameters: countParameters(Object.values(model.parts)),
    trainCount: data.train.count,
    validationCount: data.validation?.count ?? 0,
    batchSize,
    stepsPerEpoch,
    epochs,
    startEpoch: state.epoch,
    resumedFrom,
  });
  logger.debug(`engine ${engine.name}; backend ${backend.name}; skipped: ${backend.skipped.map((s) => `${s.name} (${s.reason})`).join(', ') || 'none'}`);

  const checkpoint = async (reason: TrainerState['reason'], label: string, epochTraining?: EpochTraining, epochSoFar?: EpochSoFar): Promise<string> => {
    await engine.syncModel();
    const dir = await saveCheckpoint(folder.dir, label, model, modelSeed, await engine.optimizerStates(), { ...state, reason, ...(epochTraining ? { epochTraining } : {}) }, epochSoFar);
    emit({ type: 'checkpoint', dir, reason });
    return dir;
  };
  const reporter = new EpochReporter({ name: config.name, model, data, domainB, seed, folder, sampleMetrics: options.sampleMetrics, logger });
  /** Validation, the epoch record and the figures of a finished epoch (counted from 1). */
  const report = async (finished: number, trained: EpochTraining): Promise<EpochRecord> => {
    await engine.syncModel();
    const lr = exponentialLr(config.train.learningRate, config.train.lrDecay, finished - 1);
    const record = await reporter.record(finished, state.step, lr, trained);
    checkFiniteRecord(record, checkpointDir);
    await folder.appendMetrics([record]);
    records.push(record);
    emit({ type: 'epoch', record, epochs });
    await reporter.writeFigures(finished, records);
    return record;
  };

  let interrupted = false;
  let lastEpoch: EpochRecord | undefined;
  let checkpointDir = resumedFrom ?? '';
  /** An epoch whose training finished but is in no checkpoint yet (checkpointEvery > 1), while it is reported. */
  let unsaved: { label: string; trained: EpochTraining } | undefined;
  const pending: MetricsRecord[] = [];
  try {
    // A run that failed in an epoch's validation resumes from that epoch's checkpoint, written
    // before validation ran: the epoch's report is done first.
    if (start.unreported) lastEpoch = await report(state.epoch, start.unreported);
    while (state.epoch < epochs) {
      const epoch = state.epoch;
      const lr = exponentialLr(config.train.learningRate, config.train.lrDecay, epoch);
      const order = epochOrder(data.train.count, seed, epoch);
      const orderB = domainB ? epochOrder(domainB.train.count, Rng.derive(seed, SEED_STREAMS.domainB).seed(), epoch) : undefined;
      // Resumed mid-epoch: the epoch's figures go on from the checkpoint's.
      const meter = new EpochMeter(state.stepInEpoch > 0 ? start.epochSoFar : undefined);

      for (const batch of batches(data.train, order, batchSize)) {
        if (batch.index >= stepsPerEpoch) break;
        if (batch.index < state.stepInEpoch) continue; // resumed mid-epoch: these steps are done
        const step = state.step;
        const beta = warmedUpBeta(config.train.beta, warmupSteps, step);
        const ctx: StepContext = { step, epoch, seed: Rng.derive(seed, SEED_STREAMS.step, step).seed(), beta };
        const imagesB = domainB ? cyclicRows(domainB.train, orderB, batch.index * batchSize, batch.size) : undefined;
        const outcome = await engine.step(imagesB ? { ...batch, imagesB } : batch, ctx, lr);
        if (outcome.nonFinite !== undefined) {
          checkpointDir = await checkpoint('last-good', 'last-good', undefined, meter.soFar());
          throw nonFiniteError(ctx, outcome, checkpointDir);
        }
        const { terms } = outcome;
        state.step += 1;
        state.stepInEpoch = batch.index + 1;
        const samplesPerSecond = meter.add(terms, batch.size);
        emit({ type: 'step', epoch, epochs, stepInEpoch: state.stepInEpoch, stepsPerEpoch, step: state.step, terms, lr, samplesPerSecond });
        if (state.step % config.train.logEvery === 0) {
          pending.push({ kind: 'step', step: state.step, epoch, lr, beta, samplesPerSecond, terms, time: new Date().toISOString() });
          meter.restartWindow();
        }
        // tfjs steps never wait on anything: without a turn of the event loop, a SIGINT/SIGTERM
        // handler would only run at the epoch's end.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
      }
      await flushMetrics(folder, pending, records);
      if (interrupted) {
        checkpointDir = await checkpoint('interrupted', 'interrupted', undefined, meter.soFar());
        break;
      }

      const finished = epoch + 1;
      const trained = meter.summary();
      state = { epoch: finished, stepInEpoch: 0, step: state.step, reason: 'epoch' };
      // The epoch's training is saved before validation runs, so a failure there loses none of it.
      if (finished === epochs || finished % config.train.checkpointEvery === 0) {
        checkpointDir = await checkpoint(finished === epochs ? 'final' : 'epoch', epochLabel(finished), trained);
      } else {
        unsaved = { label: epochLabel(finished), trained };
      }
      lastEpoch = await report(finished, trained);
      unsaved = undefined;
    }
  } catch (error) {
    // An honest run folder: the steps logged so far, the finished epoch's training in a
    // checkpoint, and run.json saying why the run stopped. The error itself goes to the caller.
    await flushMetrics(folder, pending, records).catch(() => {});
    if (unsaved) checkpointDir = await checkpoint('epoch', unsaved.label, unsaved.trained).catch(() => checkpointDir);
    await finishRunInfo(folder, { status: 'failed', error: describeError(error), checkpoint: checkpointDir || null }).catch(() => {});
    model.dispose();
    throw error;
  } finally {
    await engine.dispose();
  }
  await finishRunInfo(folder, { status: interrupted ? 'interrupted' : 'finished' });
  const epochsDone = interrupted ? state.epoch : epochs;
  const result: TrainResult = { runDir: folder.dir, config, backend, engine: engine.name, epochsDone, steps: state.step, interrupted, lastEpoch, checkpointDir };
  model.dispose();
  return result;
}

/**
 * The batch size a run trains with: `train.batchSize`, or the whole training set (with a warning)
 * when it has fewer images than one batch.
 *
 * @throws AekitError BAD_DATA when the training split is empty
 */
function trainingBatchSize(config: RunConfig, count: number, logger: Logger): number {
  if (count === 0) throw new AekitError('BAD_DATA', 'the training split has no images', { where: 'data.dataset' });
  const asked = config.train.batchSize;
  if (count >= asked) return asked;
  logger.warn(`train.batchSize is ${asked} but the training split has ${count} image${count === 1 ? '' : 's'}: training on batches of ${count} (one step per epoch)`);
  return count;
}

/** Append the step records not yet in metrics.jsonl (and keep them in `records`). */
async function flushMetrics(folder: RunFolder, pending: MetricsRecord[], records: MetricsRecord[]): Promise<void> {
  const lines = pending.splice(0);
  await folder.appendMetrics(lines);
  records.push(...lines);
}

/**
 * Build the engine the run resolves to. A model the engine refuses leaves no half-made run behind
 * (a retry with --engine tfjs works): the model is disposed and a new run's folder removed.
 */
async function startEngine(config: RunConfig, backend: BackendChoice, setup: EngineSetup, folder: RunFolder, resume: boolean): Promise<TrainingEngine> {
  try {
    const auto = config.train.engine === 'auto';
    const name = resolveEngine(config.train.engine, config.model.family, backend);
    return await createEngine(name, setup, auto, auto && name === 'tfjs' ? autoPicksTfjs(config.model.family, backend) : undefined);
  } catch (error) {
    setup.model.dispose();
    if (!resume) await fs.rm(folder.dir, { recursive: true, force: true });
    throw error;
  }
}
