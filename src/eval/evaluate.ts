/**
 * `aekit eval`'s library half: a model (an `.onnx` artifact, a folder of them, or a run folder)
 * against a dataset's held-out split, giving one typed {@link EvalReport}: FID of prior samples and
 * of reconstructions against the test set (with the train-vs-test FID for scale), SSIM and PSNR of
 * reconstructions, the ELBO split and IWAE bound of VAEs, classifiers on latent codes against
 * the same classifiers on pixels, and the cycle consistency of unpaired translation models
 * (cyclegan). Every artifact runs on onnxruntime (CPU by default).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { AekitError } from '../core/errors';
import { Rng } from '../core/rng';
import { AEKIT_VERSION } from '../core/version';
import { loadDataset, parseDatasetSpec } from '../data/registry';
import type { DatasetSpec } from '../data/registry';
import type { FolderDataset, ImageDataset } from '../data/types';
import { readMetadata } from '../artifact/onnx-io';
import type { OnnxModel } from './onnx-session';
import type { OrtSessionRuntime } from '../artifact/runtime';
import { defaultCacheDir, sha256Text } from './cache';
import { DEFAULT_FID_CLASSIFIER, DEFAULT_FID_IMAGE_SHAPE, FidFeatureNet, referenceStats } from './fid-features';
import { fromArtifactImages, toArtifactImages } from './images';
import type { ImageShape } from './images';
import { CLASSIFIER_LOGITS, ModelIo, oneHot } from './model-io';
import type { Encoded, PriorKind, TranslationDirection } from './model-io';
import type { RowProgress } from './onnx-session';
import { loadTarget } from './target';
import type { EvalPart, LoadedTarget } from './target';
import { DEFAULT_IWAE_SAMPLES, describeLikelihood, estimateElbo, likelihoodFor } from './metrics/elbo';
import type { ElboEstimate } from './metrics/elbo';
import { featureStats, frechetDistance } from './metrics/fid';
import type { FeatureStats } from './metrics/fid';
import { LATENT_CLASSIFIERS, scoreClassifiers } from './metrics/latent-classifiers';
import type { LatentClassifierName } from './metrics/latent-classifiers';
import { projectTo2d } from './latent/scatter';
import type { Projection } from './latent/scatter';
import { meanPsnr } from './metrics/psnr';
import { meanSsim } from './metrics/ssim';

/** The metrics `aekit eval` computes, in report order. */
export const EVAL_METRICS = ['fid', 'ssim', 'psnr', 'elbo', 'latent', 'accuracy', 'translation'] as const;
/** See {@link EVAL_METRICS}. */
export type EvalMetric = (typeof EVAL_METRICS)[number];

/** Images per comparison: pytorch-fid's usual 10,000, which is also the whole MNIST test split. */
export const DEFAULT_EVAL_COUNT = 10_000;

/**
 * Test images the ELBO/IWAE estimate uses (each decoded K = 64 times, so 64,000 decoder runs):
 * enough for a standard error of the mean well under 0.5 nat on MNIST.
 */
export const DEFAULT_ELBO_COUNT = 1000;

/**
 * Rows the latent classifiers train and score on. 2,000 training and 1,000 test rows keep the four
 * classifiers on codes and on pixels (784 features) together at 6.5 s on 2 cores (measured on
 * MNIST); accuracies are for comparison, not records.
 */
export const DEFAULT_LATENT_TRAIN_COUNT = 2000;
/** See {@link DEFAULT_LATENT_TRAIN_COUNT}. */
export const DEFAULT_LATENT_TEST_COUNT = 1000;

/** Images in the figures: the sample grid, original/reconstruction pairs, scatter points, interpolation steps, translated images per domain. */
export const FIGURE_SIZES = Object.freeze({ samples: 64, pairs: 32, scatterPoints: 2000, interpolationSteps: 10, translations: 8 });

/** Progress of a long stage: `done` of `total` rows. */
export interface EvalProgress {
  stage: string;
  done: number;
  total: number;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Metrics to compute; default: every metric that applies to the model (see {@link applicableMetrics}). */
  metrics?: readonly EvalMetric[];
  /**
   * Dataset to compare with; default: the run's (from its config.json, without its `limit`) when
   * the target is in a run folder, else the one named in the artifact metadata (mnist, colored-mnist).
   */
  dataset?: DatasetSpec;
  /**
   * A folder of images (one subfolder per class, see `loadImageFolder`) to evaluate on instead,
   * read at the model's image size and split into training and test images by
   * `HOLDOUT_FRACTIONS` with the run's seed (see {@link EvalReport.dataset}); not with `dataset`.
   */
  data?: string;
  /** Images per comparison (FID, SSIM, PSNR): the first `count` of each split (default {@link DEFAULT_EVAL_COUNT}). */
  count?: number;
  /** Test images of the ELBO estimate (default min(count, {@link DEFAULT_ELBO_COUNT})). */
  elboCount?: number;
  /** Importance samples K of the IWAE bound (default {@link DEFAULT_IWAE_SAMPLES}). */
  iwaeSamples?: number;
  /** Training rows of the latent classifiers (default min(count, {@link DEFAULT_LATENT_TRAIN_COUNT}, training images)). */
  latentTrainCount?: number;
  /** Test rows of the latent classifiers (default min(count, {@link DEFAULT_LATENT_TEST_COUNT})). */
  latentTestCount?: number;
  /** Which latent classifiers (default all, {@link LATENT_CLASSIFIERS}). */
  latentClassifiers?: readonly LatentClassifierName[];
  /** FID feature network: an aekit classifier artifact (default {@link DEFAULT_FID_CLASSIFIER}). */
  classifier?: string;
  /** Where reference statistics are cached (default {@link defaultCacheDir}). */
  cacheDir?: string;
  /**
   * Seed of every random draw (prior samples, posterior samples, classifiers); default 0. The data's
   * hold-out split and tints use the run's `train.seed` instead when the target is in a run folder.
   */
  seed?: number;
  /** Rows per onnxruntime call. */
  batchSize?: number;
  /** onnxruntime threads. */
  threads?: number;
  /** Runtime of the model and the FID classifier (default ort-node-cpu). */
  runtime?: OrtSessionRuntime;
  /** Compute the report figures (sample grid, reconstructions, latent scatter, interpolation); default true. */
  figures?: boolean;
  logger?: Logger;
  onProgress?: (event: EvalProgress) => void;
}

/** FID results; every distance is against the test split's first `count` images. */
export interface FidReport {
  classifier: { path: string; sha256: string; featureSize: number };
  /** The test-split statistics: the cache file, and whether it was read (true) or written. */
  reference: { cacheFile: string; cached: boolean };
  count: number;
  /** Prior samples through the decoder vs test images. */
  samples?: number;
  /** How samples were drawn: N(0, I), or a Gaussian fitted to training codes. */
  prior?: PriorKind;
  /** Why no samples were scored, when {@link samples} is absent. */
  samplesSkipped?: string;
  /** Reconstructions of the test images vs the test images. */
  reconstructions?: number;
  /** Training images vs test images: the FID of real data, for scale. */
  trainVsTest: number;
}

/** SSIM and PSNR of one domain's test images against their round trip through both generators. */
export interface CycleReport {
  count: number;
  ssim: number;
  /** In dB. */
  psnr: number;
}

/** Cycle consistency of an unpaired translation model (cyclegan). */
export interface TranslationReport {
  /** Domain B's dataset (domain A is the report's dataset): the run config's `model.domainB`, without its `limit`. */
  domainB: DatasetSpec;
  /** A -> B -> A: domain A's test images through generatorAB, then generatorBA, against themselves. */
  cycleA: CycleReport;
  /** B -> A -> B: domain B's test images through generatorBA, then generatorAB. */
  cycleB: CycleReport;
}

/** Mean of a per-image metric over reconstructions of test images. */
export interface ImageMetricReport {
  mean: number;
  count: number;
}

/** ELBO and IWAE estimates with the likelihood they assume. */
export interface ElboReport extends ElboEstimate {
  likelihood: string;
}

/** Test accuracy of one classifier on latent codes and on pixels. */
export interface LatentClassifierRow {
  classifier: LatentClassifierName;
  codes: number;
  pixels: number;
}

/** Latent-classifier results. */
export interface LatentReport {
  trainCount: number;
  testCount: number;
  codeSize: number;
  pixelSize: number;
  /** Accuracy of always guessing the most frequent training class. */
  chance: number;
  classifiers: LatentClassifierRow[];
}

/** Images for the report figures; all NHWC in [0, 1]. */
export interface EvalFigures {
  shape: ImageShape;
  samples?: { images: Float32Array; count: number };
  reconstructions?: { originals: Float32Array; reconstructions: Float32Array; count: number };
  /** 2-D positions (count×2) of test codes: the code itself when it has 2 dimensions, else its first two principal components. */
  latentScatter?: Projection & { labels: Int32Array; classNames: string[] };
  /** Decoded codes on the segment between two test images' codes. */
  interpolation?: { images: Float32Array; count: number };
  /**
   * Six rows of `columns` images: A, A -> B, A -> B -> A, B, B -> A, B -> A -> B (test images of
   * each domain, their translations and their round trips).
   */
  translations?: { images: Float32Array; count: number; columns: number };
}

/** Everything {@link evaluate} measured. */
export interface EvalReport {
  aekitVersion: string;
  createdAt: string;
  target: { source: string; family: string; runId: string; parts: Partial<Record<EvalPart, string>>; exportedTo?: string };
  /**
   * The data; `seed` is the seed its hold-out split (image folders, IDX pairs) and coloured MNIST's
   * tints were drawn with: the run's `train.seed` when the target is in a run folder, so that a
   * folder is split as in training, else the report's seed.
   */
  dataset: { spec: DatasetSpec; height: number; width: number; channels: number; testCount: number; trainCount: number; seed: number };
  seed: number;
  count: number;
  fid?: FidReport;
  ssim?: ImageMetricReport;
  /** PSNR in dB. */
  psnr?: ImageMetricReport;
  elbo?: ElboReport;
  latent?: LatentReport;
  /** Top-1 accuracy of a classifier artifact on the first `count` test images. */
  accuracy?: ImageMetricReport;
  translation?: TranslationReport;
  /**
   * Metrics the family supports that this target could not give, and why (when no metrics were
   * asked for explicitly; asking for one that does not apply is an error instead).
   */
  skipped: { metric: EvalMetric; reason: string }[];
  /** Seconds per stage, in order. */
  timings: { stage: string; seconds: number }[];
  /** Images for the figures; not part of the JSON report (see `reportJson`). */
  figures?: EvalFigures;
}

/** The family's metric (FamilyDefinition.evaluation.metrics) behind each of eval's metrics. */
const FAMILY_METRIC: Readonly<Record<EvalMetric, string>> = Object.freeze({
  fid: 'fid',
  ssim: 'reconstruction',
  psnr: 'reconstruction',
  elbo: 'elbo',
  latent: 'latent-classifiers',
  accuracy: 'accuracy',
  translation: 'translation',
});

/**
 * Why each metric does not apply to a model (undefined when it does): the family's registry entry
 * must list it (families this aekit does not know are judged by their artifacts alone), and the
 * artifacts must have what it needs.
 */
export function metricApplicability(io: ModelIo, labelled: boolean): Record<EvalMetric, string | undefined> {
  const canReconstruct = io.canReconstruct();
  const noRecon =
    io.encoder && io.generator
      ? `the encoder's outputs (${io.encoder.metadata.outputs.map((o) => o.name).join(', ')}) hold no code that is the decoder's whole input '${io.latentInput().name}' (${io.latentInput().size} values)`
      : `the model has no encoder/decoder pair to reconstruct images with (parts: ${partNames(io).join(', ')})`;
  const structural: Record<EvalMetric, string | undefined> = {
    fid: !io.generator
      ? `the model has no decoder or generator artifact (parts: ${partNames(io).join(', ')})`
      : io.priorKind() === undefined && !canReconstruct
        ? `${io.whyNoPrior()}, and it cannot reconstruct images`
        : undefined,
    ssim: canReconstruct ? undefined : noRecon,
    psnr: canReconstruct ? undefined : noRecon,
    elbo: io.hasGaussianPosterior() ? undefined : 'the model has no Gaussian posterior (an encoder with outputs mu and logvar feeding the decoder)',
    latent: !io.encoder ? 'the model has no encoder artifact' : !labelled ? 'the dataset has no labels' : undefined,
    accuracy: !io.classifier?.hasOutput(CLASSIFIER_LOGITS)
      ? `the model has no classifier artifact with a '${CLASSIFIER_LOGITS}' output`
      : !labelled
        ? 'the dataset has no labels'
        : undefined,
    translation: io.translators ? undefined : `the model has no generatorAB and generatorBA artifacts (parts: ${partNames(io).join(', ')})`,
  };
  const listed = io.evaluation?.metrics as readonly string[] | undefined;
  return Object.fromEntries(
    EVAL_METRICS.map((m) => [m, familySupports(io, m) ? structural[m] : `family '${io.family}' does not support ${FAMILY_METRIC[m]} metrics (its evaluation: ${listed!.join(', ')})`]),
  ) as Record<EvalMetric, string | undefined>;
}

/** True when the family's registry entry lists the metric (or the family is unknown to this aekit). */
function familySupports(io: ModelIo, metric: EvalMetric): boolean {
  const listed = io.evaluation?.metrics as readonly string[] | undefined;
  return !listed || listed.includes(FAMILY_METRIC[metric]);
}

/** The metrics that apply to a model (what `aekit eval` computes with no metric flag). */
export function applicableMetrics(io: ModelIo, labelled = true): EvalMetric[] {
  const why = metricApplicability(io, labelled);
  return EVAL_METRICS.filter((m) => why[m] === undefined);
}

function partNames(io: ModelIo): string[] {
  return [io.encoder, io.generator, io.classifier, io.translators?.AB, io.translators?.BA].filter((m) => m !== undefined).map((m) => m.metadata.part);
}

/**
 * Why FID cannot score images of `shape` with the feature network in `file` (undefined when it
 * can, or when the file cannot be read: loading it later reports that). FID's features come from
 * a classifier of one image shape (the shipped one is aekit's 28x28 grayscale MNIST classifier),
 * so other data needs a classifier trained on it.
 */
function fidShapeProblem(file: string, shape: ImageShape): string | undefined {
  const isDefault = path.resolve(file) === DEFAULT_FID_CLASSIFIER;
  let own: ImageShape | undefined;
  if (!existsSync(file)) {
    own = isDefault ? DEFAULT_FID_IMAGE_SHAPE : undefined;
  } else {
    try {
      own = readMetadata(file).imageShape;
    } catch {
      return undefined;
    }
  }
  if (!own || (own.height === shape.height && own.width === shape.width && own.channels === shape.channels)) return undefined;
  const what = isDefault ? `aekit's MNIST classifier ${file}` : file;
  return `FID's feature network (${what}) takes ${describeShape(own)} images and the model's are ${describeShape(shape)}; pass a classifier artifact trained on images of this shape with --classifier`;
}

function describeShape(shape: ImageShape): string {
  return `${shape.height}x${shape.width}x${shape.channels}`;
}

/** The dataset of `options.data`: the folder read at the image shape of the model's artifact `model`. */
function folderSpec(folder: string, model: OnnxModel): DatasetSpec {
  const shape = model.metadata.imageShape;
  if (!shape) throw new AekitError('BAD_DATA', 'the artifact has no image shape to read the folder at', { where: `${model.path}: aekit.imageShape` });
  if (shape.channels !== 1 && shape.channels !== 3) {
    throw new AekitError('BAD_ARGUMENT', `an image folder is read as grayscale or RGB, but the model takes ${shape.channels} channels`, { where: `${model.path}: aekit.imageShape.channels` });
  }
  return { name: 'folder', path: folder, height: shape.height, width: shape.width, channels: shape.channels };
}

/**
 * Domain B of a translation model: its run config's `model.domainB` (the second dataset the
 * trainer loads, see `FamilyModel.domainB`) without the run's `limit`, like domain A; or why
 * there is none.
 */
function domainBOf(target: LoadedTarget): { spec: DatasetSpec } | { reason: string } {
  const raw = target.runModel?.domainB;
  if (raw === undefined) {
    return { reason: `the translation metrics need domain B's dataset (model.domainB) from the run's config.json, and the target is not in a run folder` };
  }
  if (typeof raw !== 'object' || raw === null) return { spec: parseDatasetSpec(raw, 'config.json: model.domainB') };
  const { limit: _limit, ...whole } = raw as Record<string, unknown>;
  return { spec: parseDatasetSpec(whole, 'config.json: model.domainB') };
}

/** A description of a split that changes when the images do: an image folder's file list, hashed. */
function filesKey(data: ImageDataset): Record<string, string> {
  const files = (data as Partial<FolderDataset>).files;
  return files ? { files: sha256Text(files.join('\n')) } : {};
}

/** The dataset named in artifact metadata, when eval can load it by name. */
function datasetFromMetadata(name: string): DatasetSpec | undefined {
  if (name === 'mnist') return { name: 'mnist' };
  if (name === 'colored-mnist') return { name: 'colored-mnist' };
  return undefined;
}

/** The image shape all parts agree on, checked against the dataset. */
function checkShapes(target: LoadedTarget, data: ImageDataset, datasetName: string): ImageShape {
  const shape: ImageShape = { height: data.height, width: data.width, channels: data.channels };
  for (const model of Object.values(target.parts)) {
    const own = model.metadata.imageShape;
    if (!own) throw new AekitError('BAD_DATA', 'the artifact has no image shape', { where: `${model.path}: aekit.imageShape` });
    for (const field of ['channels', 'height', 'width'] as const) {
      if (own[field] !== shape[field]) {
        throw new AekitError(
          'BAD_ARGUMENT',
          `the model takes images with ${field} = ${own[field]}, but dataset '${datasetName}' has ${field} = ${shape[field]} (${shape.height}x${shape.width}x${shape.channels})`,
          { where: `${model.path}: aekit.imageShape.${field}` },
        );
      }
    }
  }
  return shape;
}

function rowsOf(data: Float32Array, rowSize: number, count: number): Float32Array {
  return data.subarray(0, count * rowSize);
}

function checkCount(value: number | undefined, name: string, min = 1): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) {
    throw new AekitError('BAD_ARGUMENT', `expected a whole number >= ${min}, found ${value}`, { where: name });
  }
}

/**
 * Evaluate a model: `target` is an `.onnx` artifact, a folder of artifacts, or a run folder (its
 * `onnx/` folder, else its latest checkpoint exported to a temporary folder).
 *
 * @throws AekitError BAD_ARGUMENT when a requested metric does not apply to the model (naming
 *   why) or the model's image shape does not fit the dataset (naming the field); FILE_NOT_FOUND
 *   for a missing target or FID classifier; the loading and export errors.
 */
export async function evaluate(target: string, options: EvaluateOptions = {}): Promise<EvalReport> {
  const logger = options.logger ?? silentLogger;
  const seed = options.seed ?? 0;
  checkCount(options.count, 'count', 2);
  checkCount(options.elboCount, 'elboCount');
  checkCount(options.latentTrainCount, 'latentTrainCount', 2);
  checkCount(options.latentTestCount, 'latentTestCount');
  const timings: EvalReport['timings'] = [];
  const timed = async <T>(stage: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    const seconds = (performance.now() - started) / 1000;
    timings.push({ stage, seconds });
    logger.info(`${stage}: ${seconds.toFixed(1)} s`);
    return result;
  };
  const progress =
    (stage: string): RowProgress =>
    (done, total) =>
      options.onProgress?.({ stage, done, total });

  const loaded = await timed('load model', () => loadTarget(target, { batchSize: options.batchSize, threads: options.threads, runtime: options.runtime, logger }));
  try {
    const first = (loaded.parts.encoder ?? loaded.parts.decoder ?? loaded.parts.generator ?? loaded.parts.generatorAB ?? loaded.parts.classifier)!;
    if (options.data !== undefined && options.dataset !== undefined) {
      throw new AekitError('BAD_ARGUMENT', `give a dataset (--dataset ${options.dataset.name}) or an image folder (--data ${options.data}), not both`, { where: 'dataset' });
    }
    const spec = options.data !== undefined ? folderSpec(options.data, first) : options.dataset ? parseDatasetSpec(options.dataset) : (loaded.runDataset ?? datasetFromMetadata(first.metadata.dataset));
    if (!spec) {
      throw new AekitError('BAD_ARGUMENT', `the model was trained on '${first.metadata.dataset}', which eval cannot load by name; pass the dataset (--dataset) or an image folder (--data)`, {
        where: `${first.path}: aekit.dataset`,
      });
    }
    const dataSeed = loaded.runSeed ?? seed;
    const [test, train] = await timed('load data', () => Promise.all([loadDataset(spec, 'test', dataSeed), loadDataset(spec, 'train', dataSeed)]));
    const shape = checkShapes(loaded, test, spec.name === 'folder' ? spec.path : spec.name);
    const io = new ModelIo(loaded, shape);
    const labelled = test.labels.length > 0 && test.labels[0] >= 0;
    const why = metricApplicability(io, labelled);
    // What the structure allows may still not fit the data: FID's classifier has one image shape,
    // and translation needs domain B's dataset.
    const fidClassifier = options.classifier ?? DEFAULT_FID_CLASSIFIER;
    if (why.fid === undefined) why.fid = fidShapeProblem(fidClassifier, shape);
    const domainB = io.translators ? domainBOf(loaded) : undefined;
    if (why.translation === undefined && domainB && 'reason' in domainB) why.translation = domainB.reason;
    const requested = options.metrics && options.metrics.length > 0 ? [...new Set(options.metrics)] : undefined;
    for (const metric of requested ?? []) {
      if (why[metric]) throw new AekitError('BAD_ARGUMENT', `--${metric} does not apply: ${why[metric]}`, { where: loaded.source });
    }
    const metrics = requested ?? EVAL_METRICS.filter((m) => why[m] === undefined);
    // Metrics the family supports but this target cannot give (metrics of other families are not news).
    const skipped = requested ? [] : EVAL_METRICS.filter((m) => why[m] !== undefined && familySupports(io, m)).map((metric) => ({ metric, reason: why[metric]! }));
    const want = (m: EvalMetric) => metrics.includes(m);

    const count = Math.min(options.count ?? DEFAULT_EVAL_COUNT, test.count, train.count);
    const imageSize = shape.height * shape.width * shape.channels;
    const testImages = rowsOf(test.images, imageSize, count);
    const numClasses = test.classNames.length;
    const wantFigures = options.figures !== false;
    const report: EvalReport = {
      aekitVersion: AEKIT_VERSION,
      createdAt: new Date().toISOString(),
      target: {
        source: loaded.source,
        family: loaded.family,
        runId: loaded.runId,
        parts: Object.fromEntries(Object.entries(loaded.parts).map(([part, m]) => [part, m.path])),
        ...(loaded.exportedTo ? { exportedTo: loaded.exportedTo } : {}),
      },
      dataset: { spec, ...shape, testCount: test.count, trainCount: train.count, seed: dataSeed },
      seed,
      count,
      skipped,
      timings,
    };
    const figures: EvalFigures = { shape };
    logger.info(`evaluating ${loaded.family} (${partNames(io).join(', ')}) on ${spec.name === 'folder' ? spec.path : spec.name}: ${metrics.join(', ') || 'no metrics'}; ${count} images per comparison`);

    // Encodings shared by several metrics, computed once.
    const reconCount = !io.canReconstruct() ? 0 : want('fid') || want('ssim') || want('psnr') ? count : wantFigures ? Math.min(count, FIGURE_SIZES.pairs) : 0;
    const elboCount = Math.min(options.elboCount ?? DEFAULT_ELBO_COUNT, count);
    // Not capped by `count` (which a small folder's test part caps): the classifiers train on training images.
    const latentTrain = Math.min(options.latentTrainCount ?? Math.min(options.count ?? DEFAULT_EVAL_COUNT, DEFAULT_LATENT_TRAIN_COUNT), train.count);
    const latentTest = Math.min(options.latentTestCount ?? Math.min(count, DEFAULT_LATENT_TEST_COUNT), test.count);
    const fittedPrior = want('fid') && io.priorKind() === 'fitted-gaussian';
    const testEncodeCount = io.encoder
      ? Math.max(reconCount, want('elbo') ? elboCount : 0, want('latent') ? latentTest : 0, wantFigures ? Math.min(count, FIGURE_SIZES.scatterPoints) : 0)
      : 0;
    const trainEncodeCount = io.encoder ? Math.max(fittedPrior ? count : 0, want('latent') ? latentTrain : 0) : 0;
    const testCodes: Encoded | undefined =
      testEncodeCount > 0 ? await timed('encode test images', () => io.encode(rowsOf(test.images, imageSize, testEncodeCount), testEncodeCount, test.labels, progress('encode test images'))) : undefined;
    const trainCodes: Encoded | undefined =
      trainEncodeCount > 0
        ? await timed('encode training images', () => io.encode(rowsOf(train.images, imageSize, trainEncodeCount), trainEncodeCount, train.labels, progress('encode training images')))
        : undefined;
    const generatorRange = io.generator?.metadata.valueRange ?? 'unit';
    let reconstructionsNchw: Float32Array | undefined;
    if (reconCount > 0 && testCodes?.code) {
      const codes = testCodes.code;
      const size = codes.length / testEncodeCount;
      reconstructionsNchw = await timed('reconstruct test images', () =>
        io.decode(rowsOf(codes, size, reconCount), reconCount, oneHotOrUndefined(io, test.labels.subarray(0, reconCount), numClasses), progress('reconstruct test images')),
      );
    }
    const reconstructions = reconstructionsNchw ? fromArtifactImages(reconstructionsNchw, reconCount, shape, generatorRange) : undefined;

    if (want('fid')) {
      report.fid = await fidReport();
    }
    if (want('ssim') && reconstructions && reconCount === count) {
      report.ssim = await timed('ssim', async () => ({ mean: meanSsim(testImages, reconstructions, count, shape.height, shape.width, shape.channels), count }));
    }
    if (want('psnr') && reconstructions && reconCount === count) {
      report.psnr = await timed('psnr', async () => ({ mean: meanPsnr(testImages, reconstructions, count, shape.height, shape.width, shape.channels), count }));
    }
    if (want('elbo') && testCodes?.mu && testCodes.logvar) {
      const { mu, logvar } = testCodes;
      const latentSize = io.latentInput().size;
      const likelihood = likelihoodFor(io.generator!.metadata);
      const estimate = await timed(`elbo (${elboCount} images, K = ${options.iwaeSamples ?? DEFAULT_IWAE_SAMPLES})`, () =>
        estimateElbo({
          images: toArtifactImages(rowsOf(test.images, imageSize, elboCount), elboCount, shape, generatorRange),
          count: elboCount,
          mu,
          logvar,
          latentSize,
          likelihood,
          samples: options.iwaeSamples,
          seed,
          decode: (z, imageOf) => io.decode(z, imageOf.length, oneHotOrUndefined(io, imageOf.map((i) => test.labels[i]), numClasses)),
          onProgress: progress('elbo'),
        }),
      );
      report.elbo = { ...estimate, likelihood: describeLikelihood(likelihood) };
    }
    if (want('accuracy')) {
      report.accuracy = await timed('accuracy', async () => {
        const predicted = await io.classify(testImages, count, progress('classify test images'));
        let hits = 0;
        for (let i = 0; i < count; i++) if (predicted[i] === test.labels[i]) hits++;
        return { mean: hits / count, count };
      });
    }
    if (want('latent') && testCodes && trainCodes) {
      report.latent = await timed('latent classifiers', () => latentReport(testCodes, trainCodes));
    }
    if (want('translation') && domainB && 'spec' in domainB) {
      report.translation = await translationReport(domainB.spec);
    }
    if (wantFigures) await timed('figures', () => makeFigures());
    if (wantFigures) report.figures = figures;
    return report;

    async function fidReport(): Promise<FidReport> {
      const net = await timed('load FID classifier', () =>
        FidFeatureNet.load(fidClassifier, { batchSize: options.batchSize, threads: options.threads, runtime: options.runtime }),
      );
      try {
        net.checkShape(shape, `dataset '${spec!.name}'`);
        const cacheDir = options.cacheDir ?? defaultCacheDir();
        const dataKey = (split: string, data: ImageDataset) => ({ data: { dataset: spec, split, count, seed: spec!.name === 'mnist' ? 0 : dataSeed, ...filesKey(data) } });
        const statsOf = (stage: string, unitNhwc: Float32Array) => async (): Promise<FeatureStats> =>
          featureStats(await net.features(toArtifactImages(unitNhwc, count, shape, 'unit'), count, 'unit', progress(stage)), count, net.featureSize);
        const reference = await timed('FID test statistics', () => referenceStats(net, dataKey('test', test), cacheDir, statsOf('FID features of test images', testImages), logger));
        logger.info(`FID test statistics ${reference.cached ? 'read from' : 'cached in'} ${reference.file}`);
        const trainStats = await timed('FID training statistics', () =>
          referenceStats(net, dataKey('train', train), cacheDir, statsOf('FID features of training images', rowsOf(train.images, imageSize, count)), logger),
        );
        const out: FidReport = {
          classifier: { path: net.model.path, sha256: net.sha256, featureSize: net.featureSize },
          reference: { cacheFile: reference.file, cached: reference.cached },
          count,
          trainVsTest: frechetDistance(trainStats.stats, reference.stats),
        };
        const priorKind = io.priorKind();
        if (priorKind) {
          const samples = await timed(`generate ${count} samples`, () => generate(count, progress('generate samples')));
          if (wantFigures) figures.samples = { images: fromArtifactImages(samples.subarray(0, FIGURE_SIZES.samples * imageSize), Math.min(count, FIGURE_SIZES.samples), shape, generatorRange), count: Math.min(count, FIGURE_SIZES.samples) };
          const stats = await timed('FID of samples', async () => featureStats(await net.features(samples, count, generatorRange, progress('FID features of samples')), count, net.featureSize));
          out.samples = frechetDistance(stats, reference.stats);
          out.prior = priorKind;
        } else {
          out.samplesSkipped = io.whyNoPrior();
        }
        if (reconstructionsNchw && reconCount === count) {
          const nchw = reconstructionsNchw;
          const stats = await timed('FID of reconstructions', async () =>
            featureStats(await net.features(nchw, count, generatorRange, progress('FID features of reconstructions')), count, net.featureSize),
          );
          out.reconstructions = frechetDistance(stats, reference.stats);
        }
        return out;
      } finally {
        await net.release();
      }
    }

    /** SSIM and PSNR of each domain's round trip A -> B -> A and B -> A -> B, and the figure's rows. */
    async function translationReport(domainBSpec: DatasetSpec): Promise<TranslationReport> {
      const testB = await timed('load domain B', () => loadDataset(domainBSpec, 'test', dataSeed));
      for (const field of ['height', 'width', 'channels'] as const) {
        if (testB[field] !== shape[field]) {
          throw new AekitError('BAD_DATA', `domain B has images with ${field} = ${testB[field]}, domain A (and the model) ${field} = ${shape[field]}`, { where: 'config.json: model.domainB' });
        }
      }
      const range = io.translators!.AB.metadata.valueRange;
      const roundTrip = async (domain: 'A' | 'B', images: Float32Array, n: number) => {
        const [there, back]: TranslationDirection[] = domain === 'A' ? ['AB', 'BA'] : ['BA', 'AB'];
        const run = (direction: TranslationDirection, nchw: Float32Array) => {
          const stage = `translate ${domain} ${direction === 'AB' ? 'A -> B' : 'B -> A'}`;
          return timed(stage, () => io.translate(direction, nchw, n, progress(stage)));
        };
        const translated = await run(there, toArtifactImages(images, n, shape, range));
        const cycled = fromArtifactImages(await run(back, translated), n, shape, range);
        const cycle = await timed(`ssim and psnr of ${domain === 'A' ? 'A -> B -> A' : 'B -> A -> B'}`, async () => ({
          count: n,
          ssim: meanSsim(images, cycled, n, shape.height, shape.width, shape.channels),
          psnr: meanPsnr(images, cycled, n, shape.height, shape.width, shape.channels),
        }));
        return { cycle, rows: [images, fromArtifactImages(translated, n, shape, range), cycled] };
      };
      const a = await roundTrip('A', testImages, count);
      const countB = Math.min(count, testB.count);
      const b = await roundTrip('B', rowsOf(testB.images, imageSize, countB), countB);
      if (wantFigures) {
        const columns = Math.min(count, countB, FIGURE_SIZES.translations);
        const images = new Float32Array(6 * columns * imageSize);
        [...a.rows, ...b.rows].forEach((row, r) => images.set(row.subarray(0, columns * imageSize), r * columns * imageSize));
        figures.translations = { images, count: 6 * columns, columns };
      }
      return { domainB: domainBSpec, cycleA: a.cycle, cycleB: b.cycle };
    }

    /** `n` prior samples through the decoder, NCHW in the decoder's range. */
    async function generate(n: number, onRows: RowProgress): Promise<Float32Array> {
      const codes = trainCodes?.code;
      const prior = io.prior(codes ? { codes, count: trainEncodeCount } : undefined);
      const rng = Rng.derive(seed, 'eval', 'samples');
      const z = prior.sample(n, rng);
      const labels = new Int32Array(n).map(() => rng.int(Math.max(1, numClasses)));
      return io.decode(z, n, oneHotOrUndefined(io, labels, numClasses), onRows);
    }

    async function latentReport(testEnc: Encoded, trainEnc: Encoded): Promise<LatentReport> {
      const codeSize = testEnc.featureSize;
      const set = (features: Float32Array, labels: Int32Array, n: number, dim: number) => ({ features: features.subarray(0, n * dim), labels: labels.subarray(0, n), count: n, dim });
      const classifiers = options.latentClassifiers ?? LATENT_CLASSIFIERS;
      const common = { numClasses, seed, classifiers };
      options.onProgress?.({ stage: 'latent classifiers', done: 0, total: 2 });
      const onCodes = await scoreClassifiers(set(trainEnc.features, train.labels, latentTrain, codeSize), set(testEnc.features, test.labels, latentTest, codeSize), common);
      options.onProgress?.({ stage: 'latent classifiers', done: 1, total: 2 });
      const onPixels = await scoreClassifiers(set(train.images, train.labels, latentTrain, imageSize), set(test.images, test.labels, latentTest, imageSize), common);
      options.onProgress?.({ stage: 'latent classifiers', done: 2, total: 2 });
      const counts = new Int32Array(numClasses);
      for (let i = 0; i < latentTrain; i++) counts[train.labels[i]]++;
      const majority = counts.indexOf(Math.max(...counts));
      let hits = 0;
      for (let i = 0; i < latentTest; i++) if (test.labels[i] === majority) hits++;
      return {
        trainCount: latentTrain,
        testCount: latentTest,
        codeSize,
        pixelSize: imageSize,
        chance: hits / latentTest,
        classifiers: onCodes.map((s, i) => ({ classifier: s.classifier, codes: s.accuracy, pixels: onPixels[i].accuracy })),
      };
    }

    async function makeFigures(): Promise<void> {
      if (reconstructions) {
        const pairs = Math.min(reconCount, FIGURE_SIZES.pairs);
        figures.reconstructions = { originals: testImages.slice(0, pairs * imageSize), reconstructions: reconstructions.slice(0, pairs * imageSize), count: pairs };
      }
      // A fitted prior needs training codes, encoded only when a metric needed them.
      const canSample = io.priorKind() !== undefined && (io.priorKind() !== 'fitted-gaussian' || trainCodes?.code !== undefined);
      if (!figures.samples && canSample) {
        const n = Math.min(count, FIGURE_SIZES.samples);
        figures.samples = { images: fromArtifactImages(await generate(n, () => undefined), n, shape, generatorRange), count: n };
      }
      if (testCodes) {
        const n = Math.min(testEncodeCount, FIGURE_SIZES.scatterPoints);
        // PCA needs three codes; fewer (a tiny folder's test split) get no scatter rather than an error.
        if (testCodes.featureSize === 2 || n >= 3) {
          figures.latentScatter = { ...projectTo2d(testCodes.features.subarray(0, n * testCodes.featureSize), n, testCodes.featureSize), labels: test.labels.slice(0, n), classNames: [...test.classNames] };
        }
      }
      const code = testCodes?.code;
      if (code && io.generator) {
        const size = code.length / testEncodeCount;
        // From the first test image to the first one of another class.
        const to = Math.max(1, test.labels.subarray(0, testEncodeCount).findIndex((l) => l !== test.labels[0]));
        if (to < testEncodeCount) {
          const steps = FIGURE_SIZES.interpolationSteps;
          const z = new Float32Array(steps * size);
          const labelRows = new Float32Array(steps * Math.max(1, numClasses));
          for (let s = 0; s < steps; s++) {
            const t = s / (steps - 1);
            for (let j = 0; j < size; j++) z[s * size + j] = (1 - t) * code[j] + t * code[to * size + j];
            // Conditional decoders get the label blended along with the code.
            if (numClasses > 0) {
              labelRows[s * numClasses + test.labels[0]] += 1 - t;
              labelRows[s * numClasses + test.labels[to]] += t;
            }
          }
          const images = await io.decode(z, steps, io.labelWidth(io.generator) > 0 ? labelRows : undefined);
          figures.interpolation = { images: fromArtifactImages(images, steps, shape, generatorRange), count: steps };
        }
      }
    }
  } finally {
    await loaded.release();
  }
}

/** One-hot label rows when the decoder is conditional, else undefined. */
function oneHotOrUndefined(io: ModelIo, labels: Int32Array, numClasses: number): Float32Array | undefined {
  const width = io.labelWidth(io.generator);
  if (width === 0) return undefined;
  if (width !== numClasses) {
    throw new AekitError('BAD_ARGUMENT', `the conditional decoder takes ${width} classes, the dataset has ${numClasses}`, { where: `${io.generator!.path}: aekit.numClasses` });
  }
  return oneHot(labels, width);
}

