import { AekitError } from '../core/errors';
import { Rng } from '../core/rng';
import type { FolderDataset, ImageDataset, TintedDataset } from './types';
import { checkFraction, checkInt, rowSize } from './validate';

/** How far the split fractions may sum from 1 (room for decimal fractions such as 0.7 + 0.2 + 0.1). */
export const SPLIT_SUM_TOLERANCE = 1e-9;

/**
 * Splits 0..count-1 into disjoint parts of the given fractions (e.g. [0.8, 0.1, 0.1] for
 * train/validation/test), reproducibly from `seed` (stream (seed, 'split')). Part sizes are
 * floor(count * fraction), with the remainder added to the first part. Each part is sorted
 * ascending: membership is random, order is not (shuffling is the batch loader's job).
 * @throws AekitError BAD_ARGUMENT unless the fractions are in [0, 1] and sum to 1 within 1e-9.
 */
export function splitIndices(count: number, fractions: number[], seed: number): Int32Array[] {
  checkInt(count, 'count', 0);
  if (fractions.length === 0) throw new AekitError('BAD_ARGUMENT', 'split fractions must not be empty');
  fractions.forEach((f, i) => checkFraction(f, `split fraction ${i}`));
  const sum = fractions.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > SPLIT_SUM_TOLERANCE) {
    throw new AekitError('BAD_ARGUMENT', `split fractions [${fractions.join(', ')}] must sum to 1, they sum to ${sum}`);
  }
  // The epsilon keeps e.g. 100 * 0.29 = 28.999999999999996 from flooring to 28.
  const sizes = fractions.map((f) => Math.floor(count * f + 1e-9));
  sizes[0] += count - sizes.reduce((a, b) => a + b, 0);
  const order = Rng.derive(seed, 'split').permutation(count);
  const parts: Int32Array[] = [];
  let start = 0;
  for (const size of sizes) {
    parts.push(order.slice(start, start + size).sort());
    start += size;
  }
  return parts;
}

/**
 * The images at `indices` (in that order) as a new dataset with copied arrays. Per-sample extras
 * of a {@link TintedDataset} (`colorIndex`) and a {@link FolderDataset} (`files`) are gathered too,
 * so the result has the input's type.
 * @throws AekitError BAD_ARGUMENT for an index outside 0..count-1.
 */
export function subset<T extends ImageDataset>(dataset: T, indices: ArrayLike<number>): T {
  const size = rowSize(dataset);
  const images = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= dataset.count) {
      throw new AekitError('BAD_ARGUMENT', `subset index ${i} is outside 0..${dataset.count - 1} of '${dataset.name}'`);
    }
    images.set(dataset.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = dataset.labels[i];
  }
  const result: T = { ...dataset, images, labels, count: indices.length, classNames: [...dataset.classNames] };
  const extras = dataset as Partial<TintedDataset & FolderDataset>;
  const out = result as Partial<TintedDataset & FolderDataset>;
  if (extras.colorIndex) out.colorIndex = Int32Array.from(indices, (i) => (extras.colorIndex as Int32Array)[i]);
  if (extras.files) out.files = Array.from(indices, (i) => (extras.files as string[])[i]);
  return result;
}
