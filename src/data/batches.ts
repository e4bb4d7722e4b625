import { AekitError } from '../core/errors';
import { Rng } from '../core/rng';
import type { ImageDataset } from './types';
import { checkInt, rowSize } from './validate';

/**
 * The order in which an epoch visits the dataset: a permutation drawn from the stream
 * (seed, 'shuffle', epoch). Because each epoch has its own stream, a run resumed at epoch k sees
 * exactly the order it would have seen without the interruption.
 */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  checkInt(count, 'count', 0);
  checkInt(epoch, 'epoch', 0);
  return Rng.derive(seed, 'shuffle', epoch).permutation(count);
}

/** One mini-batch: `size` images and labels copied into fresh contiguous buffers. */
export interface Batch {
  /** size*height*width*channels values, NHWC. */
  images: Float32Array;
  labels: Int32Array;
  size: number;
  /** 0-based position of the batch within the epoch. */
  index: number;
}

/** Options of {@link batches}. */
export interface BatchOptions {
  /** Drop a last batch smaller than `batchSize` (for layers such as BatchNorm that dislike tiny batches). */
  dropLast?: boolean;
}

/**
 * Yields the dataset in `order` (usually {@link epochOrder}) as batches of `batchSize`; the last
 * batch is smaller unless `dropLast`. Each batch owns its buffers (the consumer may keep them).
 * @throws AekitError BAD_ARGUMENT for a batch size < 1 or an index outside the dataset.
 */
export function* batches(
  dataset: ImageDataset,
  order: ArrayLike<number>,
  batchSize: number,
  opts: BatchOptions = {},
): Generator<Batch> {
  checkInt(batchSize, 'batch size', 1);
  const size = rowSize(dataset);
  const full = Math.floor(order.length / batchSize);
  const total = opts.dropLast || order.length % batchSize === 0 ? full : full + 1;
  for (let b = 0; b < total; b++) {
    const start = b * batchSize;
    const n = Math.min(batchSize, order.length - start);
    const images = new Float32Array(n * size);
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = order[start + k];
      if (!Number.isInteger(i) || i < 0 || i >= dataset.count) {
        throw new AekitError('BAD_ARGUMENT', `batch index ${i} is outside 0..${dataset.count - 1} of '${dataset.name}'`);
      }
      images.set(dataset.images.subarray(i * size, (i + 1) * size), k * size);
      labels[k] = dataset.labels[i];
    }
    yield { images, labels, size: n, index: b };
  }
}
