import { AekitError } from '../core/errors';
import { Rng } from '../core/rng';
import { VALUE_RANGES } from './types';
import type { ImageDataset, Rgb, TintedDataset, ValueRange } from './types';
import { checkFraction } from './validate';

/**
 * Value ranges and per-sample transforms. Every function here returns a new array or dataset and
 * never writes into its input, so cached datasets (MNIST) can be shared safely.
 */

function checkRange(range: ValueRange): { min: number; max: number } {
  const bounds = VALUE_RANGES[range];
  if (!bounds) {
    throw new AekitError('BAD_ARGUMENT', `value range must be one of ${Object.keys(VALUE_RANGES).join(', ')}, got '${String(range)}'`);
  }
  return { min: bounds[0], max: bounds[1] };
}

/** Maps [0, 1] images to `range` (a copy). */
export function toRange(images: Float32Array, range: ValueRange): Float32Array {
  const { min, max } = checkRange(range);
  const out = new Float32Array(images.length);
  const scale = max - min;
  for (let i = 0; i < images.length; i++) out[i] = images[i] * scale + min;
  return out;
}

/** Maps images in `range` back to [0, 1] (a copy); the inverse of {@link toRange}. */
export function fromRange(images: Float32Array, range: ValueRange): Float32Array {
  const { min, max } = checkRange(range);
  const out = new Float32Array(images.length);
  const scale = max - min;
  for (let i = 0; i < images.length; i++) out[i] = (images[i] - min) / scale;
  return out;
}

/**
 * Two disjoint palettes for coloured MNIST: the colour-translation study maps digits tinted with
 * one set (domain A, 'warm') to the other (domain B, 'cool'). Components in [0, 1]; every colour
 * has a component at 1 so that tinted digits keep full brightness.
 */
export const COLOR_SETS: Readonly<Record<'warm' | 'cool', readonly Rgb[]>> = {
  warm: [
    [1, 0, 0], // red
    [1, 0.5, 0], // orange
    [1, 1, 0], // yellow
  ],
  cool: [
    [0, 1, 0], // green
    [0, 0.5, 1], // blue
    [0.6, 0, 1], // purple
  ],
};

/** Options of {@link tint}. */
export interface TintOptions {
  /** Palette; each image gets one colour, drawn uniformly. Components in [0, 1]. */
  colors: readonly Rgb[];
  /** Seed of the colour draws (stream derived from (seed, 'tint')). */
  seed: number;
  /** Name of the result; default 'colored-' + the dataset's name. */
  name?: string;
}

/**
 * Coloured MNIST: turns a grayscale dataset into RGB images where each image's intensity (the
 * digit, on a black background) is multiplied by one colour drawn per image. The drawn colour's
 * index is returned in `colorIndex`, for use as a domain label.
 */
export function tint(dataset: ImageDataset, opts: TintOptions): TintedDataset {
  if (dataset.channels !== 1) {
    throw new AekitError('BAD_ARGUMENT', `tint needs a grayscale dataset, '${dataset.name}' has ${dataset.channels} channels`);
  }
  if (opts.colors.length === 0) throw new AekitError('BAD_ARGUMENT', 'tint needs at least one colour');
  opts.colors.forEach((color, i) => {
    if (color.length !== 3 || color.some((c) => !Number.isFinite(c) || c < 0 || c > 1)) {
      throw new AekitError('BAD_ARGUMENT', `colour ${i} must be 3 numbers in [0, 1], got [${color.join(', ')}]`);
    }
  });
  const rng = Rng.derive(opts.seed, 'tint');
  const pixels = dataset.height * dataset.width;
  const images = new Float32Array(dataset.count * pixels * 3);
  const colorIndex = new Int32Array(dataset.count);
  for (let n = 0; n < dataset.count; n++) {
    const index = rng.int(opts.colors.length);
    colorIndex[n] = index;
    const [r, g, b] = opts.colors[index];
    for (let p = n * pixels; p < (n + 1) * pixels; p++) {
      const v = dataset.images[p];
      images[3 * p] = v * r;
      images[3 * p + 1] = v * g;
      images[3 * p + 2] = v * b;
    }
  }
  return {
    name: opts.name ?? `colored-${dataset.name}`,
    images,
    labels: dataset.labels.slice(),
    count: dataset.count,
    height: dataset.height,
    width: dataset.width,
    channels: 3,
    classNames: [...dataset.classNames],
    colorIndex,
    colors: opts.colors.map((c) => [c[0], c[1], c[2]]),
  };
}

/**
 * Additive Gaussian noise for denoising autoencoders: a copy of `batch` plus N(0, std^2), clipped
 * to `range` (default 'unit'). Apply to training inputs only; targets and evaluation stay clean.
 */
export function gaussianNoise(batch: Float32Array, std: number, rng: Rng, range: ValueRange = 'unit'): Float32Array {
  const { min, max } = checkRange(range);
  if (!Number.isFinite(std) || std < 0) throw new AekitError('BAD_ARGUMENT', `noise std must be >= 0, got ${std}`);
  const out = new Float32Array(batch.length);
  for (let i = 0; i < batch.length; i++) out[i] = Math.min(max, Math.max(min, batch[i] + std * rng.normal()));
  return out;
}

/**
 * Masking noise (Vincent et al., 2008): a copy of `batch` where each value is independently set to
 * the bottom of `range` (0 for 'unit', -1 for 'symmetric', i.e. black in both) with probability
 * `fraction`. Values are masked one by one, so in RGB data single channels can be dropped.
 */
export function maskingNoise(batch: Float32Array, fraction: number, rng: Rng, range: ValueRange = 'unit'): Float32Array {
  const { min } = checkRange(range);
  checkFraction(fraction, 'masking fraction');
  const out = batch.slice();
  for (let i = 0; i < out.length; i++) if (rng.next() < fraction) out[i] = min;
  return out;
}

/**
 * Salt-and-pepper noise: a copy of `batch` where each value is, with probability `fraction`,
 * replaced by the bottom or the top of `range` (each with probability 1/2).
 */
export function saltAndPepperNoise(batch: Float32Array, fraction: number, rng: Rng, range: ValueRange): Float32Array {
  const { min, max } = checkRange(range);
  checkFraction(fraction, 'salt-and-pepper fraction');
  const out = batch.slice();
  for (let i = 0; i < out.length; i++) {
    if (rng.next() < fraction) out[i] = rng.next() < 0.5 ? min : max;
  }
  return out;
}

