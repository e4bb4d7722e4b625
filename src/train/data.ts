/**
 * A run's data as the trainer uses it: the dataset split into train / validation / test, a second
 * image domain for unpaired translation, and host batches turned into the tensors a family's
 * loss takes.
 */
import { AekitError } from '../core/errors';
import { Rng } from '../core/rng';
import { tf } from '../core/tfjs-backend';
import { loadDataset, splitIndices, subset } from '../data';
import type { DatasetSpec, ImageDataset } from '../data';
import type { DataShape, TrainBatch } from '../models';
import type { RunConfig } from '../run/config';
import { checkLoadedRunData } from '../run/data-check';
import type { HostBatch } from './engines/types';
import { SEED_STREAMS } from './seeds';

/** A run's data, split as its config says. */
export interface PreparedData {
  train: ImageDataset;
  /** Absent when `train.validationFraction` is 0 or leaves no image (see `notes`): validation is then skipped. */
  validation?: ImageDataset;
  /** Held out by `train.testFraction`: never trained or validated on (the sweep's test split). */
  test?: ImageDataset;
  shape: DataShape;
  /** What the user should know about the split, e.g. that a fraction of a tiny set is no image. */
  notes: string[];
}

/**
 * Load a run's dataset and split it into train / validation / test by `train.validationFraction`
 * and `train.testFraction`, in one seeded split so the parts never overlap. With testFraction 0
 * this is the two-way split of a plain run, image for image. A split that a fraction of a tiny set
 * leaves empty is skipped with a note rather than an error; all images then train.
 * @throws AekitError BAD_DATA when the family needs labels the data lacks (run/data-check.ts).
 */
export async function prepareData(config: RunConfig): Promise<PreparedData> {
  const full = await loadDataset(config.data.dataset, 'train', config.train.seed);
  // The CLI checks this before loading; library callers get the same refusal here.
  checkLoadedRunData(config, full);
  const numClasses = Math.max(full.classNames.length, 0);
  const shape: DataShape = { height: full.height, width: full.width, channels: full.channels, numClasses, valueRange: config.data.valueRange };
  const fraction = config.train.validationFraction;
  const testFraction = config.train.testFraction;
  if (fraction <= 0 && testFraction <= 0) return { train: full, shape, notes: [] };
  const [trainIdx, valIdx, testIdx] = splitIndices(full.count, [1 - fraction - testFraction, fraction, testFraction], Rng.derive(config.train.seed, SEED_STREAMS.split).seed());
  const notes: string[] = [];
  const images = `${full.count} image${full.count === 1 ? '' : 's'}`;
  if (fraction > 0 && valIdx.length === 0) notes.push(`train.validationFraction ${fraction} of ${images} is no image: validation is skipped (no validation metrics; sample grids show training images)`);
  if (testFraction > 0 && testIdx.length === 0) notes.push(`train.testFraction ${testFraction} of ${images} is no image: there is no test split`);
  if (trainIdx.length === 0 || (valIdx.length === 0 && testIdx.length === 0)) return { train: full, shape, notes };
  const limitedVal = valIdx.subarray(0, Math.min(valIdx.length, config.train.validationLimit));
  return {
    train: subset(full, trainIdx),
    validation: valIdx.length > 0 ? subset(full, limitedVal) : undefined,
    test: testIdx.length > 0 ? subset(full, testIdx) : undefined,
    shape,
    notes,
  };
}

/** The second domain's images (unpaired translation, e.g. cyclegan), split into train/validation like the run's dataset. */
export interface DomainB {
  train: ImageDataset;
  validation?: ImageDataset;
}

/**
 * Load a family's second domain (`model.domainB`) with the run's seed and validation fraction
 * (its own split stream), checking that its images have the run's shape.
 */
export async function prepareDomainB(spec: DatasetSpec, config: RunConfig, shape: DataShape): Promise<DomainB> {
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
export function cyclicRows(dataset: ImageDataset, order: Int32Array | undefined, start: number, size: number): Float32Array {
  const row = dataset.height * dataset.width * dataset.channels;
  const out = new Float32Array(size * row);
  for (let i = 0; i < size; i++) {
    const position = (start + i) % dataset.count;
    const index = order ? order[position] : position;
    out.set(dataset.images.subarray(index * row, (index + 1) * row), i * row);
  }
  return out;
}

/** Image tensor [n, h, w, c] of NHWC images in [0, 1], in the model's value range. */
function imagesInRange(images: Float32Array, shape: DataShape): tf.Tensor4D {
  const n = images.length / (shape.height * shape.width * shape.channels);
  const raw = tf.tensor4d(images, [n, shape.height, shape.width, shape.channels]);
  return shape.valueRange === 'unit' ? raw : (tf.sub(tf.mul(raw, 2), 1) as tf.Tensor4D);
}

/**
 * One-hot rows [labels.length, numClasses] of class indices, built on the host. Unlabelled rows
 * (-1) count as class 0, so a one-class set (a flat folder: every label -1 or 0) gets rows of
 * ones and an unlabelled set (numClasses 0) gets an empty [B, 0]. Not tf.oneHot: it refuses a
 * depth below 2, which made a one-class run crash in validation. The ort engine feeds the same
 * rows, so both engines condition on identical labels.
 */
export function oneHotRows(labels: Int32Array, numClasses: number): Float32Array {
  const rows = new Float32Array(labels.length * numClasses);
  if (numClasses === 0) return rows;
  for (let r = 0; r < labels.length; r++) {
    const label = Math.max(0, labels[r]);
    if (label < numClasses) rows[r * numClasses + label] = 1; // as tf.oneHot: out of range is all zeros
  }
  return rows;
}

/** {@link oneHotRows} as a float32 tensor [labels.length, numClasses]. Call inside a tidy scope. */
export function oneHotTensor(labels: Int32Array, numClasses: number): tf.Tensor2D {
  return tf.tensor2d(oneHotRows(labels, numClasses), [labels.length, numClasses]);
}

/** A host batch as the tensors a family's loss takes, in the model's value range. Call inside a tidy scope. */
export function toTrainBatch(batch: HostBatch, shape: DataShape): TrainBatch {
  const x = imagesInRange(batch.images, shape);
  const labelTensor = tf.tensor1d(batch.labels, 'int32');
  const trainBatch: TrainBatch = { x, labels: labelTensor, oneHot: oneHotTensor(batch.labels, shape.numClasses), size: batch.size };
  if (batch.imagesB) trainBatch.xB = imagesInRange(batch.imagesB, shape);
  return trainBatch;
}
