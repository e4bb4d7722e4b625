import { z } from 'zod';
import { AekitError, unknownName } from '../core/errors';
import { Rng } from '../core/rng';
import { loadFashionMnist } from './fashion-mnist';
import { loadIdxDataset } from './idx';
import { loadImageFolder } from './image-folder';
import { loadMnist, type Split } from './mnist';
import { splitIndices, subset } from './split';
import { COLOR_SETS, tint } from './transforms';
import type { ImageDataset, Rgb } from './types';

/**
 * Datasets by name, as configs and the CLI refer to them. Data is bundled (MNIST) or read from
 * files the user points at; nothing is downloaded.
 */

/** Valid values of `DatasetSpec.name`. */
export const DATASET_NAMES = ['mnist', 'colored-mnist', 'fashion-mnist', 'idx', 'folder'] as const;

/**
 * Datasets that need nothing but their name (`--dataset <name>`): bundled MNIST and its tinted
 * version, and Fashion-MNIST where Debian's dataset-fashion-mnist package installed it.
 */
export const NAMED_DATASETS = ['mnist', 'colored-mnist', 'fashion-mnist'] as const;
/** See {@link NAMED_DATASETS}. */
export type NamedDataset = (typeof NAMED_DATASETS)[number];

/** True for a name in {@link NAMED_DATASETS}. */
export function isNamedDataset(name: string): name is NamedDataset {
  return (NAMED_DATASETS as readonly string[]).includes(name);
}

/**
 * Fractions of the hold-out split used for datasets without a predefined test split (image
 * folders, IDX files without test files): 90% train, 10% test, drawn with
 * `splitIndices(count, HOLDOUT_FRACTIONS, seed)`. Being seeded by the run seed, runs that should
 * be compared on the same test images must share their seed.
 */
export const HOLDOUT_FRACTIONS: readonly [number, number] = [0.9, 0.1];

/** Palettes of coloured MNIST; 'all' is warm then cool, so colour indices 0-2 are warm, 3-5 cool. */
export type ColorSetName = 'all' | 'warm' | 'cool';

/** Which dataset to load; validated from configs by {@link datasetSpecSchema}. */
export type DatasetSpec =
  /** Bundled MNIST; `limit` keeps the first N images of the split. */
  | { name: 'mnist'; limit?: number }
  /** MNIST tinted per image with a colour of the chosen palette (default 'all'). */
  | { name: 'colored-mnist'; limit?: number; colors?: ColorSetName }
  /** Fashion-MNIST from Debian's dataset-fashion-mnist (see `loadFashionMnist`); `limit` as for MNIST. */
  | { name: 'fashion-mnist'; limit?: number }
  /**
   * An IDX image/label pair (Fashion-MNIST, EMNIST). With `testImages`/`testLabels` those are the
   * test split; without, the pair is split by {@link HOLDOUT_FRACTIONS}. `transpose` for EMNIST.
   */
  | {
      name: 'idx';
      images: string;
      labels: string;
      testImages?: string;
      testLabels?: string;
      transpose?: boolean;
      limit?: number;
    }
  /**
   * A folder of images, one subfolder per class or flat (unlabelled; see `loadImageFolder`), split
   * by {@link HOLDOUT_FRACTIONS}. `limit` keeps N images of the split drawn at random (seeded; the
   * first N would be the first classes only).
   */
  | { name: 'folder'; path: string; height: number; width: number; channels: 1 | 3; limitPerClass?: number; limit?: number };

const count = (what: string) =>
  z.int({ error: `${what} must be a whole number` }).min(1, { error: `${what} must be at least 1` });
const filePath = (what: string) => z.string({ error: `${what} must be a file path` }).min(1, { error: `${what} must not be empty` });

/** Zod schema of {@link DatasetSpec}, with messages that name the field and the valid values. */
export const datasetSpecSchema: z.ZodType<DatasetSpec> = z.discriminatedUnion(
  'name',
  [
    z.strictObject({ name: z.literal('mnist'), limit: count('limit').optional() }),
    z.strictObject({
      name: z.literal('colored-mnist'),
      limit: count('limit').optional(),
      colors: z.enum(['all', 'warm', 'cool'], { error: "colors must be 'all', 'warm' or 'cool'" }).optional(),
    }),
    z.strictObject({ name: z.literal('fashion-mnist'), limit: count('limit').optional() }),
    z
      .strictObject({
        name: z.literal('idx'),
        images: filePath('images'),
        labels: filePath('labels'),
        testImages: filePath('testImages').optional(),
        testLabels: filePath('testLabels').optional(),
        transpose: z.boolean({ error: 'transpose must be true or false' }).optional(),
        limit: count('limit').optional(),
      })
      .refine((spec) => (spec.testImages === undefined) === (spec.testLabels === undefined), {
        error: 'give both testImages and testLabels, or neither',
        path: ['testLabels'],
      }),
    z.strictObject({
      name: z.literal('folder'),
      path: filePath('path'),
      height: count('height'),
      width: count('width'),
      channels: z.literal([1, 3], { error: 'channels must be 1 (grayscale) or 3 (RGB)' }),
      limitPerClass: count('limitPerClass').optional(),
      limit: count('limit').optional(),
    }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `name must be one of: ${DATASET_NAMES.join(', ')}` : undefined) },
);

/**
 * Validates a dataset spec from a config (`where` names it in messages, e.g. 'config.json: data').
 * @throws AekitError UNKNOWN_NAME for a missing or unknown `name` (listing the valid ones),
 *   BAD_CONFIG for any other problem, naming each field.
 */
export function parseDatasetSpec(value: unknown, where = 'dataset'): DatasetSpec {
  const name = typeof value === 'object' && value !== null ? (value as { name?: unknown }).name : undefined;
  if (typeof value === 'object' && value !== null && !(DATASET_NAMES as readonly unknown[]).includes(name)) {
    const message =
      name === undefined
        ? `dataset spec has no 'name'; expected one of: ${DATASET_NAMES.join(', ')}`
        : unknownName('dataset', String(name), DATASET_NAMES).message;
    throw new AekitError('UNKNOWN_NAME', message, { where });
  }
  const result = datasetSpecSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return `${field}${issue.message}`;
  });
  throw new AekitError('BAD_CONFIG', `invalid dataset spec: ${problems.join('; ')}`, { where });
}

function palette(colors: ColorSetName): Rgb[] {
  const chosen = colors === 'all' ? [...COLOR_SETS.warm, ...COLOR_SETS.cool] : [...COLOR_SETS[colors]];
  return chosen.map((c) => [c[0], c[1], c[2]]);
}

function holdout<T extends ImageDataset>(dataset: T, split: Split, seed: number): T {
  const [train, test] = splitIndices(dataset.count, [...HOLDOUT_FRACTIONS], seed);
  return subset(dataset, split === 'train' ? train : test);
}

function firstN<T extends ImageDataset>(dataset: T, limit: number | undefined): T {
  if (limit === undefined || limit >= dataset.count) return dataset;
  return subset(dataset, Int32Array.from({ length: limit }, (_, i) => i));
}

/** `limit` images drawn at random (seeded), in their original order. */
function randomN<T extends ImageDataset>(dataset: T, limit: number | undefined, seed: number, split: Split): T {
  if (limit === undefined || limit >= dataset.count) return dataset;
  return subset(dataset, Rng.derive(seed, 'dataset-limit', split).permutation(dataset.count).subarray(0, limit).sort());
}

/** The spec of a dataset known by name alone (see {@link NAMED_DATASETS}), e.g. from an artifact's metadata. */
export function namedDatasetSpec(name: string): DatasetSpec | undefined {
  return isNamedDataset(name) ? { name } : undefined;
}

/**
 * Loads one split of a dataset. MNIST, coloured MNIST and Fashion-MNIST use their own train/test
 * files; folders (and IDX pairs without test files) are split 90/10 by {@link HOLDOUT_FRACTIONS}
 * with `seed`. Coloured MNIST's colour draws also come from `seed` (stream (seed, 'colored-mnist',
 * split)). `limit` keeps the first N images of the returned split (of a folder: N drawn at random
 * with `seed`, in their order).
 * @throws AekitError UNKNOWN_NAME / BAD_CONFIG for an invalid spec, or the loaders' errors.
 */
export async function loadDataset(spec: DatasetSpec, split: Split, seed: number): Promise<ImageDataset> {
  if (split !== 'train' && split !== 'test') {
    throw new AekitError('BAD_ARGUMENT', `split must be 'train' or 'test', got '${String(split)}'`);
  }
  const checked = parseDatasetSpec(spec);
  switch (checked.name) {
    case 'mnist':
      return loadMnist(split, { limit: checked.limit });
    case 'colored-mnist':
      return tint(loadMnist(split, { limit: checked.limit }), {
        colors: palette(checked.colors ?? 'all'),
        seed: Rng.derive(seed, 'colored-mnist', split).seed(),
        name: 'colored-mnist',
      });
    case 'fashion-mnist':
      return loadFashionMnist(split, { limit: checked.limit });
    case 'idx': {
      const opts = { transpose: checked.transpose };
      if (checked.testImages !== undefined && checked.testLabels !== undefined) {
        const [images, labels] = split === 'train' ? [checked.images, checked.labels] : [checked.testImages, checked.testLabels];
        return loadIdxDataset(images, labels, images, { ...opts, limit: checked.limit });
      }
      const all = loadIdxDataset(checked.images, checked.labels, checked.images, opts);
      return firstN(holdout(all, split, seed), checked.limit);
    }
    case 'folder': {
      const all = await loadImageFolder(checked.path, {
        height: checked.height,
        width: checked.width,
        channels: checked.channels,
        limitPerClass: checked.limitPerClass,
      });
      return randomN(holdout(all, split, seed), checked.limit, seed, split);
    }
  }
}
