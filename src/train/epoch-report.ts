/**
 * What a run reports about its epochs: the running sums of the steps (the epoch's training
 * figures and throughput), validation metrics, metrics of sampled images (e.g. FID), the epoch
 * record and its warnings, and the figures in the run folder (sample grid, progress GIF, loss
 * curve). Validation and samples run on the tfjs model, so every engine reports the same way.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import { imageGridPng } from '../core/image-io';
import type { Logger } from '../core/log';
import { lineChartPng } from '../core/plot';
import { Rng } from '../core/rng';
import { tf } from '../core/tfjs-backend';
import { batches, fromRange } from '../data';
import type { ImageDataset } from '../data';
import type { DataShape, FamilyModel, StepContext } from '../models';
import type { EpochSoFar } from '../run/checkpoint-format';
import type { RunFolder } from '../run/run-folder';
import type { EpochRecord, MetricsRecord, StepRecord } from '../run/run-folder';
import { cyclicRows, oneHotTensor, toTrainBatch } from './data';
import type { DomainB, PreparedData } from './data';
import { writeProgressGif } from './progress-gif';
import { SEED_STREAMS } from './seeds';

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

/** Batch size of validation and of the sweep's test split (forward passes only). */
export const EVALUATION_BATCH_SIZE = 256;

/** Largest number of images decoded in one go by {@link sampleMetrics}. */
const SAMPLE_METRICS_CHUNK = 256;

/** Validation metrics in order of preference for curves and summaries. */
const PRIMARY_METRICS = ['negElbo', 'crossEntropy', 'reconstruction'];

/** The metric a run is judged by: the first of {@link PRIMARY_METRICS} present, else the first key. */
export function primaryMetric(metrics: Record<string, number>): string | undefined {
  return PRIMARY_METRICS.find((k) => k in metrics) ?? Object.keys(metrics)[0];
}

/** The name of an epoch's checkpoint and sample grid, e.g. 'epoch-0003'. */
export function epochLabel(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}`;
}

/** An epoch's training figures (the part of its record that the steps make). */
export type EpochTraining = Pick<EpochRecord, 'seconds' | 'samplesPerSecond' | 'train'>;

/** Running sums of one epoch's steps: batch-size-weighted loss terms, and samples per second. */
export class EpochMeter {
  private readonly sums: Record<string, number>;
  private samples: number;
  private readonly start = performance.now();
  private readonly earlierSeconds: number;
  private windowStart = this.start;
  private windowSamples = 0;
  private lastStep = this.start;

  /** `resumed`: the epoch's figures before a mid-epoch checkpoint this run resumed from. */
  constructor(resumed?: EpochSoFar) {
    this.sums = { ...resumed?.sums };
    this.samples = resumed?.samples ?? 0;
    this.earlierSeconds = resumed?.seconds ?? 0;
  }

  /** Count a finished step; returns the samples per second since the last {@link restartWindow}. */
  add(terms: Record<string, number>, size: number): number {
    for (const [k, v] of Object.entries(terms)) this.sums[k] = (this.sums[k] ?? 0) + v * size;
    this.samples += size;
    this.windowSamples += size;
    this.lastStep = performance.now();
    return this.windowSamples / Math.max(1e-9, (this.lastStep - this.windowStart) / 1000);
  }

  /** Measure throughput afresh from the last step on (after a logged step). */
  restartWindow(): void {
    this.windowStart = this.lastStep;
    this.windowSamples = 0;
  }

  /** The epoch so far, for a mid-epoch checkpoint. */
  soFar(): EpochSoFar {
    return { sums: { ...this.sums }, samples: this.samples, seconds: this.earlierSeconds + (performance.now() - this.start) / 1000 };
  }

  /** The epoch's training figures, timed up to now. */
  summary(): EpochTraining {
    const seconds = this.earlierSeconds + (performance.now() - this.start) / 1000;
    return {
      seconds,
      samplesPerSecond: this.samples / Math.max(1e-9, seconds),
      train: Object.fromEntries(Object.entries(this.sums).map(([k, v]) => [k, v / Math.max(1, this.samples)])),
    };
  }
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
      const b = toTrainBatch({ ...batch, imagesB }, shape);
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

/** What the reports of a run's epochs read. */
export interface ReportedRun {
  name: string;
  model: FamilyModel;
  data: PreparedData;
  domainB?: DomainB;
  seed: number;
  folder: RunFolder;
  sampleMetrics?: SampleMetricsHook;
  logger: Logger;
}

/** The end-of-epoch reports of one run. */
export class EpochReporter {
  constructor(private readonly run: ReportedRun) {}

  /**
   * The record of a finished epoch (`epoch` counted from 1): its training figures, then validation
   * and sampled-image metrics of the model as it is now. Logs the family's warnings about it.
   */
  async record(epoch: number, step: number, lr: number, trained: EpochTraining): Promise<EpochRecord> {
    const { model, data, domainB, seed } = this.run;
    const validation = data.validation ? await evaluate(model, data.validation, data.shape, seed, EVALUATION_BATCH_SIZE, domainB?.validation ?? domainB?.train) : {};
    if (this.run.sampleMetrics) Object.assign(validation, await sampleMetrics(model, data.shape, this.run.sampleMetrics, seed));
    const record: EpochRecord = { kind: 'epoch', epoch, step, lr, ...trained, validation, time: new Date().toISOString() };
    for (const warning of model.epochWarnings?.(record) ?? []) this.run.logger.warn(`epoch ${epoch}: ${warning}`);
    return record;
  }

  /** The sample grid of epoch `epoch` (and the progress GIF of all of them) and the loss curve of `records`. */
  async writeFigures(epoch: number, records: readonly MetricsRecord[]): Promise<void> {
    const { model, data, domainB, seed, folder } = this.run;
    const grid = await sampleGrid(model, data.validation ?? data.train, data.shape, Rng.derive(seed, SEED_STREAMS.samples).seed(), domainB?.validation ?? domainB?.train);
    if (grid) {
      // Atomic: a kill mid-write must not leave a torn figure that a resumed run never redraws.
      await writeFileAtomic(path.join(folder.samplesDir, `${epochLabel(epoch)}.png`), grid, { force: true });
      await writeProgressGif(folder.samplesDir); // zoo studies: samples across epochs as one GIF
    }
    await writeFileAtomic(folder.lossCurvePath, lossCurve(records, this.run.name), { force: true });
  }
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
    const b = toTrainBatch({ images: first.images, labels: first.labels, size: n, imagesB: datasetB ? cyclicRows(datasetB, undefined, 0, n) : undefined }, shape);
    if (model.sampleRows) return tf.concat(model.sampleRows(b), 0);
    const rows: tf.Tensor4D[] = [b.x];
    if (model.encode) rows.push(model.decode!(model.encode(b.x, b.oneHot), b.oneHot));
    if (model.samplePrior) {
      const count = columns * 2;
      const z = model.samplePrior(count, seed);
      const oneHot = shape.numClasses > 0 ? oneHotTensor(Int32Array.from({ length: count }, (_, i) => i % shape.numClasses), shape.numClasses) : undefined;
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

/** The training loss of every logged step, with the primary validation metric of each epoch. */
function lossCurve(records: readonly MetricsRecord[], name: string): Buffer {
  const steps = records.filter((r): r is StepRecord => r.kind === 'step');
  const epochs = records.filter((r): r is EpochRecord => r.kind === 'epoch');
  const trainKey = steps.length && 'total' in steps[0].terms ? 'total' : Object.keys(steps[0]?.terms ?? {})[0];
  const valKey = epochs.length ? primaryMetric(epochs[epochs.length - 1].validation) : undefined;
  const series = [{ name: `train ${trainKey ?? ''}`.trim(), points: steps.map((r) => [r.step, r.terms[trainKey]] as [number, number]) }];
  if (valKey) series.push({ name: `validation ${valKey}`, points: epochs.map((r) => [r.step, r.validation[valKey]] as [number, number]), markers: true } as (typeof series)[number]);
  return lineChartPng({ title: `${name}: loss`, xLabel: 'step', yLabel: 'loss', series });
}

/** Decode `hook.count` prior samples (fixed codes) in [0, 1] and score them with the hook. */
async function sampleMetrics(model: FamilyModel, shape: DataShape, hook: SampleMetricsHook, seed: number): Promise<Record<string, number>> {
  if (!model.samplePrior || !model.decode) return {};
  const pixels = shape.height * shape.width * shape.channels;
  const images = new Float32Array(hook.count * pixels);
  for (let start = 0; start < hook.count; start += SAMPLE_METRICS_CHUNK) {
    const n = Math.min(SAMPLE_METRICS_CHUNK, hook.count - start);
    const decoded = tf.tidy(() => {
      const z = model.samplePrior!(n, Rng.derive(seed, SEED_STREAMS.sampleMetrics, start).seed());
      const oneHot = model.conditional ? oneHotTensor(Int32Array.from({ length: n }, (_, i) => (start + i) % Math.max(1, shape.numClasses)), shape.numClasses) : undefined;
      return model.decode!(z, oneHot);
    });
    const values = (await decoded.data()) as Float32Array;
    decoded.dispose();
    images.set(shape.valueRange === 'unit' ? values : fromRange(values, 'symmetric'), start * pixels);
  }
  return hook.compute({ images, count: hook.count, height: shape.height, width: shape.width, channels: shape.channels });
}
