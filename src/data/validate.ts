import { AekitError } from '../core/errors';
import type { ImageDataset } from './types';

/**
 * Argument checks shared by the data loaders. Internal: not re-exported from the package, because
 * configs are validated by `datasetSpecSchema`; these guard direct library calls.
 */

/** Throws BAD_ARGUMENT unless `value` is an integer >= `min`. */
export function checkInt(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new AekitError('BAD_ARGUMENT', `${what} must be an integer >= ${min}, got ${value}`);
  }
}

/** Throws BAD_ARGUMENT unless `value` is a finite number in [0, 1]. */
export function checkFraction(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new AekitError('BAD_ARGUMENT', `${what} must be a number in [0, 1], got ${value}`);
  }
}

/** Number of values in one image of `dataset`. */
export function rowSize(dataset: ImageDataset): number {
  return dataset.height * dataset.width * dataset.channels;
}
