import { AekitError } from '../core/errors';
import { FASHION_MNIST_CLASSES } from './fashion-mnist';
import { scanFolder } from './folder-scan';
import { readIdx } from './idx';
import type { DatasetSpec } from './registry';
import type { ImageDataset } from './types';

/**
 * Whether a dataset has the labels that conditional models, classifiers and latent classifiers
 * need: at least two classes, every image labelled. The check works on a loaded dataset, or on a
 * spec before anything is decoded ({@link datasetClasses}: a folder's layout, an IDX label file),
 * so a long run can refuse unsuitable data before it starts.
 */

/** Classes a classifier needs: with one class there is nothing to tell apart. */
export const MIN_CLASSES = 2;

/** What a dataset's labels are, as far as a label-needing consumer cares. */
export interface DatasetClasses {
  /** How messages name the data ('mnist', a folder path, an IDX file). */
  source: string;
  /** Class names; empty when the images are unlabelled. */
  classNames: string[];
  /** Classes that actually occur (an IDX file may use fewer labels than its largest implies). */
  used: number;
  /** Set when the images come unlabelled, saying why (e.g. a flat folder). */
  unlabelled?: string;
}

const TEN_DIGITS = Array.from({ length: 10 }, (_, i) => String(i));

/**
 * The classes of the dataset a spec names, without decoding an image: fixed for the named sets,
 * the label file of an IDX pair, the layout of a folder.
 * @throws AekitError the loaders' errors for a missing folder or label file.
 */
export async function datasetClasses(spec: DatasetSpec): Promise<DatasetClasses> {
  switch (spec.name) {
    case 'mnist':
    case 'colored-mnist':
      return { source: spec.name, classNames: TEN_DIGITS, used: 10 };
    case 'fashion-mnist':
      return { source: spec.name, classNames: [...FASHION_MNIST_CLASSES], used: 10 };
    case 'idx': {
      const labels = readIdx(spec.labels).data;
      const used = new Set(labels);
      const max = Math.max(-1, ...used);
      return { source: spec.labels, classNames: Array.from({ length: max + 1 }, (_, i) => String(i)), used: used.size };
    }
    case 'folder': {
      const scan = await scanFolder(spec.path).catch((error: NodeJS.ErrnoException) => {
        const code = error.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'BAD_DATA';
        throw new AekitError(code, code === 'FILE_NOT_FOUND' ? 'image folder not found' : `cannot read the image folder: ${error.message}`, { where: spec.path, cause: error });
      });
      if (scan.flat) return { source: spec.path, classNames: [], used: 0, unlabelled: 'a flat folder of images (no class subfolders)' };
      return { source: spec.path, classNames: scan.classes.map((c) => c.name), used: scan.classes.length };
    }
  }
}

/** The classes of a loaded dataset. */
export function loadedClasses(dataset: ImageDataset): DatasetClasses {
  const used = new Set<number>();
  for (const label of dataset.labels) used.add(label);
  const unlabelled = dataset.classNames.length === 0 || used.has(-1) ? 'its images have no labels' : undefined;
  return { source: dataset.name, classNames: dataset.classNames, used: unlabelled ? 0 : used.size, unlabelled };
}

/**
 * Why the data cannot serve something that needs labels (undefined when it can): no labels at
 * all, or fewer than {@link MIN_CLASSES} classes.
 */
export function labelProblem(classes: DatasetClasses): string | undefined {
  if (classes.unlabelled) return `${classes.source} is unlabelled: ${classes.unlabelled}`;
  if (classes.used < MIN_CLASSES) {
    const named = classes.classNames.length === 1 ? ` ('${classes.classNames[0]}')` : '';
    return `${classes.source} has ${classes.used === 1 ? 'one class' : `${classes.used} classes`}${named}; at least ${MIN_CLASSES} are needed`;
  }
  return undefined;
}

/**
 * Refuses data without usable labels for `consumer` (e.g. "model family 'cvae'", 'latent classification').
 * @throws AekitError BAD_DATA naming the consumer, the data and what it would take.
 */
export function requireLabels(classes: DatasetClasses, consumer: string): void {
  const problem = labelProblem(classes);
  if (problem === undefined) return;
  throw new AekitError(
    'BAD_DATA',
    `${consumer} needs labelled images of at least ${MIN_CLASSES} classes, but ${problem}. ` +
      'Give a folder with one subfolder per class (or labelled IDX files, or a named dataset such as mnist)',
  );
}
