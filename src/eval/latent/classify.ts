/**
 * Classifiers on latent codes against the same classifiers on pixels, on a labelled image set
 * (the AE-zoo study: how much of Omniglot's character identity each autoencoder's code keeps).
 * The classifiers and their settings are eval's (src/eval/metrics/latent-classifiers.ts); this
 * file only splits the images and feeds codes or pixels to them.
 */
import { AekitError } from '../../core/errors';
import { Rng } from '../../core/rng';
import { loadedClasses, requireLabels } from '../../data/labels';
import { LATENT_CLASSIFIERS, scoreClassifiers } from '../metrics/latent-classifiers';
import type { ClassifierScore, LabelledFeatures, LatentClassifierName } from '../metrics/latent-classifiers';
import type { LatentModel } from './artifacts';
import type { LatentImages } from './images';

/**
 * Share of each class held out for testing. Omniglot has 20 drawings per character, so a quarter
 * leaves 15 to train on and 5 to test, close to the 10-per-class of the course report's split.
 */
export const DEFAULT_CLASSIFY_TEST_FRACTION = 0.25;

/** Train and test rows of a per-class split. */
export interface ClassSplit {
  train: Int32Array;
  test: Int32Array;
}

/**
 * Split every class by `testFraction` (seeded): a class of n >= 2 images puts round(n * fraction),
 * at least 1 and at most n - 1, into test; a single-image class goes to train. Per class, because
 * with ~10 images per class a random split leaves some classes with no training image at all.
 */
export function splitPerClass(labels: Int32Array, count: number, testFraction: number, seed: number): ClassSplit {
  if (!(testFraction > 0 && testFraction < 1)) throw new AekitError('BAD_ARGUMENT', `the test fraction must be between 0 and 1, got ${testFraction}`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    if (labels[i] < 0) throw new AekitError('BAD_ARGUMENT', `image ${i} has no class; classifiers need labelled images (a folder with one subfolder per class)`);
    byClass.set(labels[i], [...(byClass.get(labels[i]) ?? []), i]);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const [label, rows] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
    const order = Rng.derive(seed, 'classify-split', label).permutation(rows.length);
    const held = rows.length < 2 ? 0 : Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * testFraction)));
    order.forEach((k, j) => (j < held ? test : train).push(rows[k]));
  }
  return { train: Int32Array.from(train.sort((a, b) => a - b)), test: Int32Array.from(test.sort((a, b) => a - b)) };
}

function rowsOf(values: Float32Array, dim: number, labels: Int32Array, rows: Int32Array): LabelledFeatures {
  const features = new Float32Array(rows.length * dim);
  rows.forEach((r, k) => features.set(values.subarray(r * dim, (r + 1) * dim), k * dim));
  return { features, labels: Int32Array.from(rows, (r) => labels[r]), count: rows.length, dim };
}

/** Accuracies of one representation (an encoder's codes, or the pixels). */
export interface RepresentationScores {
  /** The encoder file, or 'pixels'. */
  name: string;
  /** The encoder's run (its metadata runId). */
  run?: string;
  family?: string;
  dim: number;
  scores: ClassifierScore[];
}

/** Options of {@link classifyRepresentations}. */
export interface ClassifyOptions {
  testFraction?: number;
  seed?: number;
  classifiers?: readonly LatentClassifierName[];
  /** Score the raw pixels too (default true): the baseline the codes are compared with. */
  pixels?: boolean;
}

/** Result of {@link classifyRepresentations}. */
export interface ClassifyResult {
  numClasses: number;
  trainCount: number;
  testCount: number;
  classifiers: LatentClassifierName[];
  rows: RepresentationScores[];
}

/**
 * Train each classifier on the codes of each encoder (and on the pixels) of the training part of
 * a per-class split of `images`, and report test accuracies. All encoders see the same split.
 */
export async function classifyRepresentations(models: readonly LatentModel[], images: LatentImages, options: ClassifyOptions = {}): Promise<ClassifyResult> {
  requireLabels(loadedClasses(images), 'latent classification');
  const numClasses = images.classNames.length;
  const seed = options.seed ?? 0;
  const split = splitPerClass(images.labels, images.count, options.testFraction ?? DEFAULT_CLASSIFY_TEST_FRACTION, seed);
  if (split.test.length === 0) throw new AekitError('BAD_ARGUMENT', 'no class has 2 or more images, so nothing can be held out for testing', { where: images.name });
  const classifiers = [...(options.classifiers ?? LATENT_CLASSIFIERS)];
  const score = async (values: Float32Array, dim: number) =>
    scoreClassifiers(rowsOf(values, dim, images.labels, split.train), rowsOf(values, dim, images.labels, split.test), { numClasses, seed, classifiers });
  const rows: RepresentationScores[] = [];
  for (const model of models) {
    const { values, size } = await model.features(images.images, images.count, model.numClasses > 0 ? images.labels : undefined);
    rows.push({ name: model.encoderPath, run: model.metadata.runId, family: model.family, dim: size, scores: await score(values, size) });
  }
  if (options.pixels ?? true) {
    const dim = images.height * images.width * images.channels;
    rows.push({ name: 'pixels', dim, scores: await score(images.images, dim) });
  }
  return { numClasses, trainCount: split.train.length, testCount: split.test.length, classifiers, rows };
}

/**
 * The result as a Markdown table: one row per representation (named by its run, unless two
 * encoders share one), one accuracy column per classifier.
 */
export function classifyMarkdown(result: ClassifyResult): string {
  const runs = result.rows.map((r) => r.run);
  const label = (r: RepresentationScores) => (r.run && runs.filter((x) => x === r.run).length === 1 ? r.run : r.name);
  const header = ['representation', 'family', 'dims', ...result.classifiers.map((c) => `${c} acc.`)];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(header),
    line(header.map((_, i) => (i < 2 ? '---' : '---:'))),
    ...result.rows.map((r) =>
      line([label(r), r.family ?? '', String(r.dim), ...result.classifiers.map((c) => {
        const s = r.scores.find((x) => x.classifier === c);
        return s ? `${(100 * s.accuracy).toFixed(1)}%` : '';
      })]),
    ),
  ].join('\n');
}
