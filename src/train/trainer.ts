/**
 * The tfjs training loop: seeded data order, one Adam per training phase, exponential lr schedule,
 * gradient clipping, KL warm-up, a NaN/Inf guard, per-epoch validation, sample grids, loss curve,
 * atomic checkpoints, and exact resume (from an epoch checkpoint or one taken mid-epoch on
 * interrupt). The library never prints: progress goes to `onEvent` and the logger.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import { imageGridPng } from '../core/image-io';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { AEKIT_VERSION } from '../core/version';
import { lineChartPng } from '../core/plot';
import { Rng } from '../core/rng';
import { tf, useBackend } from '../core/tfjs-backend';
import type { BackendChoice } from '../core/tfjs-backend';
import { batches, epochOrder, fromRange, loadDataset, splitIndices, subset } from '../data';
import type { DatasetSpec, ImageDataset } from '../data';
import { getFamily } from '../models';
import type { DataShape, FamilyModel, StepContext, TrainBatch } from '../models';
import { countParameters } from '../models/layers';
import { loadCheckpoint, saveCheckpoint } from '../run/checkpoint';
import type { TrainerState } from '../run/checkpoint';
import { resolveRunConfig } from '../run/config';
import type { RunConfig } from '../run/config';
import { Adam, exponentialLr, globalNorm, warmedUpBeta } from './optim';
import type { AdamState } from './optim';
import { assertEngineSupports, createEngine, resolveEngine } from './engines';
import type { EngineName, TrainingEngine } from './engines';
import { writeProgressGif } from './progress-gif';
import { RunFolder } from '../run/run-folder';
import type { EpochRecord, MetricsRecord, StepRecord } from '../run/run-folder';

/** Events the trainer emits (the CLI turns them into a progress bar or log lines). */
export type TrainEvent =
  | {
      type: 'start';
      runDir: string;
      backend: BackendChoice;
      engine: EngineName;
      /** Where and how the engine runs (the ort engine: its onnxruntime runtime and Adam placement). */
      engineDetail?: string;
      family: string;
      parameters: number;
      trainCount: number;
      validationCount: number;
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
  /** Continue the run in `<outDir>/<name>` from its latest checkpoint. */
  resume?: boolean;
  /** Replace an existing run folder of the same name (otherwise that is an error). */
  overwrite?: boolean;
  logger?: Logger;
  onEvent?: (event: TrainEvent) => void;
  /** When aborted, training stops after the current step and writes an 'interrupted' checkpoint. */
  signal?: AbortSignal;
  /** Metrics of images sampled from the model at each epoch's end (e.g. FID during training). */
  sampleMetrics?: SampleMetricsHook;
}

/**
 * A callback scoring images sampled from the model's prior (families with `samplePrior` and
 * `decode`), e.g. FID against real images with the MNIST classifier's features. The same `count`
 * latent codes are used every epoch, so the values compare across epochs; what it returns is
 * merged into the epoch's validation metrics (and so into metrics.jsonl).
 */
export interface SampleMetricsHook {
  count: number;
  compute(samples: SampledImages): Promise<Record<string, number>>;
}

/** Images for {@link SampleMetricsHook}: NHWC float32 in [0, 1] whatever the model's value range. */
export interface SampledImages {
  images: Float32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
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

/** Fixed seed offsets so that different random streams of a run never coincide. */
const SEED_STREAMS = { step: 'step', validation: 'validation', samples: 'samples', split: 'split', model: 'model', domainB: 'domain-b', sampleMetrics: 'sample-metrics' } as const;

/** A run's data, split as its config says. */
export interface PreparedData {
  train: ImageDataset;
  validation?: ImageDataset;
  /** Held out by `train.testFraction`: never trained or validated on (the sweep's test split). */
  test?: ImageDataset;
  shape: DataShape;
}

/**
 * Load a run's dataset and split it into train / validation / test by `train.validationFraction`
 * and `train.testFraction`, in one seeded split so the parts never overlap. With testFraction 0
 * this is the two-way split of a plain run, image for image.
 */
export async function prepareData(config: RunConfig): Promise<PreparedData> {
  const full = await loadDataset(config.data.dataset, 'train', config.train.seed);
  const numClasses = Math.max(full.classNames.length, 0);
  const shape: DataShape = { height: full.height, width: full.width, channels: full.channels, numClasses, valueRange: config.data.valueRange };
  const fraction = config.train.validationFraction;
  const testFraction = config.train.testFraction;
  if (fraction <= 0 && testFraction <= 0) return { train: full, shape };
  const [trainIdx, valIdx, testIdx] = splitIndices(full.count, [1 - fraction - testFraction, fraction, testFraction], Rng.derive(config.train.seed, SEED_STREAMS.split).seed());
  if (trainIdx.length === 0 || (valIdx.length === 0 && testIdx.length === 0)) return { train: full, shape };
  const limitedVal = valIdx.subarray(0, Math.min(valIdx.length, config.train.validationLimit));
  return {
    train: subset(full, trainIdx),
    validation: valIdx.length > 0 ? subset(full, limitedVal) : undefined,
    test: testIdx.length > 0 ? subset(full, testIdx) : undefined,
    shape,
  };
}

/** Image tensor [n, h, w, c] in the model's value range. */
function imagesInRange(images: Float32Array, dataset: ImageDataset, shape: DataShape): tf.Tensor4D {
  const n = images.length / (dataset.height * dataset.width * dataset.channels);
  const raw = tf.tensor4d(images, [n, dataset.height, dataset.width, dataset.channels]);
  return shape.valueRange === 'unit' ? raw : (tf.sub(tf.mul(raw, 2), 1) as tf.Tensor4D);
}

/** Batch tensors in the model's value range (`imagesB`: the second domain's, see {@link DomainB}). Call inside a tidy scope. */
function toTrainBatch(images: Float32Array, labels: Int32Array, size: number, dataset: ImageDataset, shape: DataShape, imagesB?: Float32Array): TrainBatch {
  const x = imagesInRange(images, dataset, shape);
  const labelTensor = tf.tensor1d(labels, 'int32');
  const oneHot = shape.numClasses > 0 ? (tf.cast(tf.oneHot(tf.maximum(labelTensor, tf.scalar(0, 'int32')), shape.numClasses), 'float32') as tf.Tensor2D) : tf.zeros([size, 0]);
  const batch: TrainBatch = { x, labels: labelTensor, oneHot: oneHot as tf.Tensor2D, size };
  if (imagesB) batch.xB = imagesInRange(imagesB, dataset, shape);
  return batch;
}

/** Average named scalars (`evaluateBatch`) over batches of a dataset: validation, and the sweep's test split. */
export async function evaluate(model: FamilyModel, dataset: ImageDataset, shape: DataShape, seed: number, batchSize: number, datasetB?: ImageDataset): Promise<Record<string, number>> {
  if (!model.evaluateBatch) return {};
  const sums: Record<string, number> = {};
  let seen = 0;
  const order = Int32Array.from({ length: dataset.count }, (_, i) => i);
  for (const batch of batches(dataset, order, batchSize)) {
    const values = tf.tidy(() => {
      const imagesB = datasetB ? cyclicRows(datasetB, undefined, batch.index * batchSize, batch.size) : undefined;
      const b = toTrainBatch(batch.images, batch.labels, batch.size, dataset, shape, imagesB);
      const ctx: StepContext = { step: 0, epoch: 0, seed: Rng.derive(seed, SEED_STREAMS.validation, batch.index).seed(), beta: 1 };
      const out = model.evaluateBatch!(b, ctx);
      const names = Object.keys(out);
      return { names, stacked: tf.stack(names.map((n) => out[n])) };
    });
    const data = await values.stacked.data();
    values.stacked.dispose();
    values.names.forEach((name, i) => (sums[name] = (sums[name] ?? 0) + data[i] * batch.size));
    seen += batch.size;
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, seen)]));
}

/**
 * A grid: originals, their reconstructions, then samples from the prior (when the model has them);
 * or the model's own `sampleRows` (with `datasetB`'s first images as the batch's `xB`).
 */
async function sampleGrid(model: FamilyModel, dataset: ImageDataset, shape: DataShape, seed: number, datasetB?: ImageDataset): Promise<Buffer | undefined> {
  if (!model.decode && !model.sampleRows) return undefined;
  const columns = 8;
  const n = Math.min(columns, dataset.count);
  const pixels = dataset.height * dataset.width * dataset.channels;
  const result = tf.tidy(() => {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const first = batches(dataset, order, n).next().value!;
    const b = toTrainBatch(first.images, first.labels, n, dataset, shape, datasetB ? cyclicRows(datasetB, undefined, 0, n) : undefined);
    if (model.sampleRows) return tf.concat(model.sampleRows(b), 0);
    const rows: tf.Tensor4D[] = [b.x];
    if (model.encode) rows.push(model.decode!(model.encode(b.x, b.oneHot), b.oneHot));
    if (model.samplePrior) {
      const count = columns * 2;
      const z = model.samplePrior(count, seed);
      const labels = tf.tensor1d(Int32Array.from({ length: count }, (_, i) => i % Math.max(1, shape.numClasses)), 'int32');
      const oneHot = shape.numClasses > 0 ? (tf.cast(tf.oneHot(labels, shape.numClasses), 'float32') as tf.Tensor2D) : undefined;
      rows.push(model.decode!(z, oneHot));
    }
    return tf.concat(rows, 0);
  });
  const values = (await result.data()) as Float32Array;
  const count = result.shape[0];
  result.dispose();
  const unit = shape.valueRange === 'unit' ? values : fromRange(values, 'symmetric');
  return imageGridPng(unit.subarray(0, count * pixels), count, dataset.height, dataset.width, dataset.channels, { columns });
}

function lossCurve(records: readonly MetricsRecord[], name: string): Buffer {
  const steps = records.filter((r): r is StepRecord => r.kind === 'step');
  const epochs = records.filter((r): r is EpochRecord => r.kind === 'epoch');
  const trainKey = steps.length && 'total' in steps[0].terms ? 'total' : Object.keys(steps[0]?.terms ?? {})[0];
  const valKey = epochs.length ? primaryMetric(epochs[epochs.length - 1].validation) : undefined;
  const series = [{ name: `train ${trainKey ?? ''}`.trim(), points: steps.map((r) => [r.step, r.terms[trainKey]] as [number, number]) }];
  if (valKey) series.push({ name: `validation ${valKey}`, points: epochs.map((r) => [r.step, r.validation[valKey]] as [number, number]), markers: true } as (typeof series)[number]);
  return lineChartPng({ title: `${name}: loss`, xLabel: 'step', yLabel: 'loss', series });
}

/** Validation metrics in order of preference for curves and summaries. */
const PRIMARY_METRICS = ['negElbo', 'crossEntropy', 'reconstruction'];

/** The metric a run is judged by: the first of {@link PRIMARY_METRICS} present, else the first key. */
export function primaryMetric(metrics: Record<string, number>): string | undefined {
  return PRIMARY_METRICS.find((k) => k in metrics) ?? Object.keys(metrics)[0];
}

function epochLabel(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}`;
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

  if (await folder.exists()) {
    if (!options.resume && !options.overwrite) {
      throw new AekitError('ALREADY_EXISTS', 'a run with this name exists; pass --resume to continue it or --overwrite to start again', { where: folder.dir });
    }
    if (options.overwrite && !options.resume) await fs.rm(folder.dir, { recursive: true, force: true });
  } else if (options.resume) {
    throw new AekitError('FILE_NOT_FOUND', 'nothing to resume: no run folder with a config.json', { where: folder.dir });
  }
  await folder.create();

  const backend = await useBackend(config.train.backend);
  const data = await prepareData(config);
  const family = getFamily(config.model.family);
  const seed = config.train.seed;

  let model: FamilyModel;
  let state: TrainerState = { epoch: 0, stepInEpoch: 0, step: 0, reason: 'epoch' };
  let resumedFrom: string | undefined;
  let savedOptimizers: Record<string, AdamState> = {};
  let records: MetricsRecord[] = [];
  if (options.resume) {
    const loaded = await loadCheckpoint(folder.dir);
    model = loaded.model;
    state = loaded.trainer;
    savedOptimizers = loaded.optimizers;
    resumedFrom = loaded.dir;
    records = await folder.truncateMetrics(state.step);
    const previous = JSON.parse(await fs.readFile(folder.configPath, 'utf8')) as RunConfig;
    if (JSON.stringify(previous.model) !== JSON.stringify(config.model)) {
      model.dispose();
      throw new AekitError('BAD_CONFIG', 'the model config differs from the run being resumed; start a new run instead', { where: folder.configPath });
    }
  } else {
    model = family.build(family.configSchema.parse(config.model), data.shape, Rng.derive(seed, SEED_STREAMS.model).seed());
  }
  const domainB = model.domainB ? await prepareDomainB(model.domainB, config, data.shape) : undefined;
  // Another engine, when the run uses one, replaces the tfjs step below (src/train/engines).
  let engine: TrainingEngine | undefined;
  try {
    engine = await createEngine(
      resolveEngine(config.train.engine, config.model.family, backend),
      { model, shape: data.shape, batchSize: config.train.batchSize, adam: config.train.adam, clipNorm: config.train.clipNorm, threads: config.train.ortThreads, runtime: config.train.ortRuntime, savedOptimizers, logger },
      config.train.engine === 'auto',
    );
  } catch (error) {
    // A model the engine refuses leaves no half-made run behind (a retry with --engine tfjs works).
    model.dispose();
    if (!options.resume) await fs.rm(folder.dir, { recursive: true, force: true });
    throw error;
  }
  const engineName: EngineName = engine?.name ?? 'tfjs';
  await folder.writeJson(folder.configPath, config);
  await folder.writeJson(folder.runInfoPath, {
    aekitVersion: AEKIT_VERSION,
    backend: backend.name,
    engine: engineName,
    ...(engine?.detail ? { engineDetail: engine.detail } : {}),
    backendsSkipped: backend.skipped,
    startedAt: new Date().toISOString(),
    resumedFrom: resumedFrom ?? null,
    status: 'running',
  });

  const optimizers = model.phases.map((phase) => {
    const adam = new Adam(phase.variables(), config.train.adam);
    const saved = savedOptimizers[phase.name];
    if (saved) adam.setState(saved);
    return adam;
  });

  const batchSize = config.train.batchSize;
  const fullSteps = Math.max(1, Math.floor(data.train.count / batchSize));
  const stepsPerEpoch = Math.min(fullSteps, config.train.stepsPerEpoch ?? fullSteps);
  const warmupSteps = Math.round(config.train.betaWarmupEpochs * stepsPerEpoch);
  emit({
    type: 'start',
    runDir: folder.dir,
    backend,
    engine: engineName,
    engineDetail: engine?.detail,
    family: family.name,
    parameters: countParameters(Object.values(model.parts)),
    trainCount: data.train.count,
    validationCount: data.validation?.count ?? 0,
    stepsPerEpoch,
    epochs: config.train.epochs,
    startEpoch: state.epoch,
    resumedFrom,
  });
  logger.debug(`engine ${engineName}; backend ${backend.name}; skipped: ${backend.skipped.map((s) => `${s.name} (${s.reason})`).join(', ') || 'none'}`);

  const checkpoint = async (reason: TrainerState['reason'], label: string): Promise<string> => {
    await engine?.syncModel();
    const optimizerStates = engine
      ? await engine.optimizerStates()
      : await Promise.all(model.phases.map(async (phase, i) => ({ phase: phase.name, state: await optimizers[i].getState() })));
    const dir = await saveCheckpoint(folder.dir, label, model, Rng.derive(seed, SEED_STREAMS.model).seed(), optimizerStates, { ...state, reason });
    emit({ type: 'checkpoint', dir, reason });
    return dir;
  };

  let interrupted = false;
  let lastEpoch: EpochRecord | undefined;
  let checkpointDir = resumedFrom ?? '';
  try {
    while (state.epoch < config.train.epochs) {
      const epoch = state.epoch;
      const lr = exponentialLr(config.train.learningRate, config.train.lrDecay, epoch);
      const order = epochOrder(data.train.count, seed, epoch);
      const orderB = domainB ? epochOrder(domainB.train.count, Rng.derive(seed, SEED_STREAMS.domainB).seed(), epoch) : undefined;
      const epochSums: Record<string, number> = {};
      let epochSamples = 0;
      const epochStart = performance.now();
      let windowStart = performance.now();
      let windowSamples = 0;
      const pending: MetricsRecord[] = [];

      // Fewer images than one batch (tiny fixtures): train on the one smaller batch, as fullSteps
      // promises, instead of dropping it and silently training zero steps.
      for (const batch of batches(data.train, order, batchSize, { dropLast: data.train.count >= batchSize })) {
        if (batch.index >= stepsPerEpoch) break;
        if (batch.index < state.stepInEpoch) continue; // resumed mid-epoch: these steps are done
        const step = state.step;
        const beta = warmedUpBeta(config.train.beta, warmupSteps, step);
        const ctx: StepContext = { step, epoch, seed: Rng.derive(seed, SEED_STREAMS.step, step).seed(), beta };
        const terms: Record<string, number> = {};
        const imagesB = domainB ? cyclicRows(domainB.train, orderB, batch.index * batchSize, batch.size) : undefined;
        if (engine) {
          const outcome = await engine.step(imagesB ? { ...batch, imagesB } : batch, ctx, lr);
          if (outcome.nonFinite !== undefined) {
            const dir = await checkpoint('last-good', 'last-good');
            throw new AekitError(
              'NON_FINITE_LOSS',
              `step ${step} (epoch ${epoch + 1}): ${outcome.nonFinite}. Training stopped; the weights before this step are saved in ${dir}. ` +
                'Common causes: learning rate too high, log-variance explosion (try train.clipNorm), or inputs outside the value range.',
            );
          }
          Object.assign(terms, outcome.terms);
        }
        for (let p = 0; !engine && p < model.phases.length; p++) {
          const phase = model.phases[p];
          const prefix = model.phases.length > 1 ? `${phase.name}.` : '';
          const variables = phase.variables();
          const { names, termValues, grads, norm } = tf.tidy(() => {
            const b = toTrainBatch(batch.images, batch.labels, batch.size, data.train, data.shape, imagesB);
            let kept: Record<string, tf.Scalar> = {};
            const result = tf.variableGrads(() => {
              const loss = phase.loss(b, ctx);
              kept = loss.terms;
              for (const t of Object.values(kept)) tf.keep(t);
              return loss.total;
            }, variables);
            const gradList = variables.map((v) => result.grads[v.name]);
            const names = Object.keys(kept);
            const termValues = tf.stack(names.map((n) => kept[n]));
            tf.dispose(Object.values(kept));
            return { names, termValues, grads: gradList, norm: globalNorm(gradList) };
          });
          const [values, normValue] = await Promise.all([termValues.data(), norm.data()]);
          termValues.dispose();
          norm.dispose();
          const badTerm = names.find((_, i) => !Number.isFinite(values[i]));
          if (badTerm !== undefined || !Number.isFinite(normValue[0])) {
            tf.dispose(grads);
            const what = badTerm !== undefined ? `loss term '${prefix}${badTerm}' is ${values[names.indexOf(badTerm)]}` : `gradient norm of phase '${phase.name}' is ${normValue[0]}`;
            const dir = await checkpoint('last-good', 'last-good');
            // Earlier phases of this step (e.g. a GAN's discriminator) were already applied.
            const applied = p > 0 ? ` (after this step's ${model.phases.slice(0, p).map((ph) => `'${ph.name}'`).join(', ')} update)` : '';
            throw new AekitError(
              'NON_FINITE_LOSS',
              `step ${step} (epoch ${epoch + 1}): ${what}. Training stopped; the weights before this step${applied} are saved in ${dir}. ` +
                'Common causes: learning rate too high, log-variance explosion (try train.clipNorm), or inputs outside the value range.',
            );
          }
          const clip = config.train.clipNorm;
          const scale = clip !== undefined && normValue[0] > clip ? clip / normValue[0] : 1;
          optimizers[p].apply(grads, lr, scale);
          tf.dispose(grads);
          names.forEach((name, i) => (terms[`${prefix}${name}`] = values[i]));
          terms[`${prefix}gradNorm`] = normValue[0];
        }
        for (const [k, v] of Object.entries(terms)) epochSums[k] = (epochSums[k] ?? 0) + v * batch.size;
        epochSamples += batch.size;
        windowSamples += batch.size;
        state.step += 1;
        state.stepInEpoch = batch.index + 1;

        const now = performance.now();
        const samplesPerSecond = windowSamples / Math.max(1e-9, (now - windowStart) / 1000);
        emit({ type: 'step', epoch, epochs: config.train.epochs, stepInEpoch: state.stepInEpoch, stepsPerEpoch, step: state.step, terms, lr, samplesPerSecond });
        if (state.step % config.train.logEvery === 0) {
          pending.push({ kind: 'step', step: state.step, epoch, lr, beta, samplesPerSecond, terms, time: new Date().toISOString() });
          windowStart = now;
          windowSamples = 0;
        }
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
      }
      await folder.appendMetrics(pending);
      records.push(...pending);
      if (interrupted) {
        checkpointDir = await checkpoint('interrupted', 'interrupted');
        break;
      }

      const seconds = (performance.now() - epochStart) / 1000;
      await engine?.syncModel();
      const validation = data.validation ? await evaluate(model, data.validation, data.shape, seed, 256, domainB?.validation ?? domainB?.train) : {};
      if (options.sampleMetrics) Object.assign(validation, await sampleMetrics(model, data.shape, options.sampleMetrics, seed));
      const record: EpochRecord = {
        kind: 'epoch',
        epoch: epoch + 1,
        step: state.step,
        lr,
        seconds,
        samplesPerSecond: epochSamples / Math.max(1e-9, seconds),
        train: Object.fromEntries(Object.entries(epochSums).map(([k, v]) => [k, v / Math.max(1, epochSamples)])),
        validation,
        time: new Date().toISOString(),
      };
      lastEpoch = record;
      for (const warning of model.epochWarnings?.(record) ?? []) logger.warn(`epoch ${epoch + 1}: ${warning}`);
      await folder.appendMetrics([record]);
      records.push(record);
      emit({ type: 'epoch', record, epochs: config.train.epochs });

      const grid = await sampleGrid(model, data.validation ?? data.train, data.shape, Rng.derive(seed, SEED_STREAMS.samples).seed(), domainB?.validation ?? domainB?.train);
      if (grid) await fs.writeFile(path.join(folder.samplesDir, `${epochLabel(epoch + 1)}.png`), grid);
      if (grid) await writeProgressGif(folder.samplesDir); // zoo studies: samples across epochs as one GIF
      await fs.writeFile(folder.lossCurvePath, lossCurve(records, config.name));

      const finished = epoch + 1;
      state = { epoch: finished, stepInEpoch: 0, step: state.step, reason: 'epoch' };
      const last = finished === config.train.epochs;
      if (last || finished % config.train.checkpointEvery === 0) {
        checkpointDir = await checkpoint(last ? 'final' : 'epoch', epochLabel(finished));
      }
    }
  } finally {
    optimizers.forEach((o) => o.dispose());
    await engine?.dispose();
  }
  const info = JSON.parse(await fs.readFile(folder.runInfoPath, 'utf8')) as Record<string, unknown>;
  await folder.writeJson(folder.runInfoPath, { ...info, finishedAt: new Date().toISOString(), status: interrupted ? 'interrupted' : 'finished' });
  const epochsDone = interrupted ? state.epoch : config.train.epochs;
  const result: TrainResult = { runDir: folder.dir, config, backend, engine: engineName, epochsDone, steps: state.step, interrupted, lastEpoch, checkpointDir };
  model.dispose();
  return result;
}

// ---- Second image domain (unpaired translation, e.g. cyclegan) ----

/** The second domain's images, split into train/validation like the run's dataset. */
interface DomainB {
  train: ImageDataset;
  validation?: ImageDataset;
}

/**
 * Load a family's second domain (`model.domainB`) with the run's seed and validation fraction
 * (its own split stream), checking that its images have the run's shape.
 */
async function prepareDomainB(spec: DatasetSpec, config: RunConfig, shape: DataShape): Promise<DomainB> {
  const full = await loadDataset(spec, 'train', config.train.seed);
  if (full.height !== shape.height || full.width !== shape.width || full.channels !== shape.channels) {
    throw new AekitError(
      'BAD_CONFIG',
      `domain B images are ${full.height}x${full.width}x${full.channels}, data.dataset's are ${shape.height}x${shape.width}x${shape.channels}; both domains need the same shape`,
      { where: 'model.domainB' },
    );
  }
  const fraction = config.train.validationFraction;
  if (fraction <= 0) return { train: full };
  const [trainIdx, valIdx] = splitIndices(full.count, [1 - fraction, fraction], Rng.derive(config.train.seed, SEED_STREAMS.split, SEED_STREAMS.domainB).seed());
  if (valIdx.length === 0 || trainIdx.length === 0) return { train: full };
  return { train: subset(full, trainIdx), validation: subset(full, valIdx.subarray(0, Math.min(valIdx.length, config.train.validationLimit))) };
}

/**
 * `size` images from position `start` of `order` (default: dataset order), wrapping around, so a
 * domain smaller than the main dataset is cycled through rather than running out.
 */
function cyclicRows(dataset: ImageDataset, order: Int32Array | undefined, start: number, size: number): Float32Array {
  const row = dataset.height * dataset.width * dataset.channels;
  const out = new Float32Array(size * row);
  for (let i = 0; i < size; i++) {
    const position = (start + i) % dataset.count;
    const index = order ? order[position] : position;
    out.set(dataset.images.subarray(index * row, (index + 1) * row), i * row);
  }
  return out;
}

// ---- Metrics of sampled images (FID during training) ----

/** Largest number of images decoded in one go by {@link sampleMetrics}. */
const SAMPLE_METRICS_CHUNK = 256;

/** Decode `hook.count` prior samples (fixed codes) in [0, 1] and score them with the hook. */
async function sampleMetrics(model: FamilyModel, shape: DataShape, hook: SampleMetricsHook, seed: number): Promise<Record<string, number>> {
  if (!model.samplePrior || !model.decode) return {};
  const pixels = shape.height * shape.width * shape.channels;
  const images = new Float32Array(hook.count * pixels);
  for (let start = 0; start < hook.count; start += SAMPLE_METRICS_CHUNK) {
    const n = Math.min(SAMPLE_METRICS_CHUNK, hook.count - start);
    const decoded = tf.tidy(() => {
      const z = model.samplePrior!(n, Rng.derive(seed, SEED_STREAMS.sampleMetrics, start).seed());
      const labels = tf.tensor1d(Int32Array.from({ length: n }, (_, i) => (start + i) % Math.max(1, shape.numClasses)), 'int32');
      const oneHot = model.conditional ? (tf.cast(tf.oneHot(labels, shape.numClasses), 'float32') as tf.Tensor2D) : undefined;
      return model.decode!(z, oneHot);
    });
    const values = (await decoded.data()) as Float32Array;
    decoded.dispose();
    images.set(shape.valueRange === 'unit' ? values : fromRange(values, 'symmetric'), start * pixels);
  }
  return hook.compute({ images, count: hook.count, height: shape.height, width: shape.width, channels: shape.channels });
}
