/**
 * What `evaluate` can be told ({@link EvaluateOptions}) and the defaults it falls back on: images
 * per comparison, ELBO and latent-classifier rows, figure sizes.
 */
import type { Logger } from '../core/log';
import type { DatasetSpec } from '../data/registry';
import type { OrtSessionRuntime } from '../artifact/runtime';
import type { FeatureExtraction } from '../artifact/metadata';
import type { EvalMetric } from './applicability';
import type { LatentClassifierName } from './metrics/latent-classifiers';

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

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** Metrics to compute; default: every metric that applies to the model (see `applicableMetrics`). */
  metrics?: readonly EvalMetric[];
  /**
   * Dataset to compare with; default: the run's (from its config.json, without its `limit`) when
   * the target is in a run folder, else the one named in the artifact metadata (mnist, colored-mnist).
   */
  dataset?: DatasetSpec;
  /**
   * A folder of images (one subfolder per class, see `loadImageFolder`) to evaluate on instead,
   * read at the model's image size and split into training and test images by
   * `HOLDOUT_FRACTIONS` with the run's seed (see `EvalReport.dataset`); not with `dataset`.
   */
  data?: string;
  /** Images per comparison (FID, SSIM, PSNR): the first `count` of each split (default {@link DEFAULT_EVAL_COUNT}). */
  count?: number;
  /** Test images of the ELBO estimate (default min(count, {@link DEFAULT_ELBO_COUNT})). */
  elboCount?: number;
  /** Importance samples K of the IWAE bound (default `DEFAULT_IWAE_SAMPLES`). */
  iwaeSamples?: number;
  /** Training rows of the latent classifiers (default min(count, {@link DEFAULT_LATENT_TRAIN_COUNT}, training images)). */
  latentTrainCount?: number;
  /** Test rows of the latent classifiers (default min(count, {@link DEFAULT_LATENT_TEST_COUNT})). */
  latentTestCount?: number;
  /** Which latent classifiers (default all, `LATENT_CLASSIFIERS`). */
  latentClassifiers?: readonly LatentClassifierName[];
  /**
   * FID's and KID's feature network: an ONNX file (an aekit classifier, pytorch-fid's InceptionV3
   * made by scripts/pytorch-fid-to-onnx.py, any network with declared or given preprocessing).
   * Default: the shipped network for the data's image shape (`SHIPPED_FEATURE_NETWORKS`).
   */
  features?: string;
  /** The preprocessing of a `features` network without aekit metadata, or overrides of its declaration. */
  featurePreprocess?: Partial<FeatureExtraction>;
  /** Alias of {@link features} (its earlier name: the network was an aekit classifier). */
  classifier?: string;
  /** KID's subsets (default `KID_DEFAULTS`: 100 of 1,000 rows, as torchmetrics). */
  kidSubsets?: number;
  /** Rows per KID subset (default `KID_DEFAULTS`; capped at `count`). */
  kidSubsetSize?: number;
  /** Where reference statistics are cached (default `defaultCacheDir`). */
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
  /** Runtime of the model and the feature network (default ort-node-cpu). */
  runtime?: OrtSessionRuntime;
  /** Compute the report figures (sample grid, reconstructions, latent scatter, interpolation); default true. */
  figures?: boolean;
  /** Where stage timings and warnings go (default: nowhere). */
  logger?: Logger;
  /** Called as long stages advance (rows encoded, decoded, scored). */
  onProgress?: (event: EvalProgress) => void;
}
