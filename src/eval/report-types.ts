/**
 * What {@link EvalReport} holds: one typed section per metric (the runners in src/eval/runners
 * fill them), the data and target it was measured on, and the images of the report figures.
 * src/eval/report.ts writes it as files.
 */
import type { DatasetSpec } from '../data/registry';
import type { FeatureExtraction } from '../artifact/metadata';
import type { EvalMetric } from './applicability';
import type { ImageShape } from './images';
import type { ElboEstimate } from './metrics/elbo';
import type { LatentClassifierName } from './metrics/latent-classifiers';
import type { Projection } from './latent/scatter';
import type { PriorKind } from './priors';
import type { EvalPart } from './target';

/** The feature network FID and KID used, and how it was fed. */
export interface FeatureNetworkReport {
  path: string;
  sha256: string;
  featureSize: number;
  /** The preprocessing and output used (declared by the file, or given with the `--features-*` flags). */
  preprocess: FeatureExtraction;
  /** True when the file declared its preprocessing (aekit metadata); false when flags gave it. */
  declared: boolean;
}

/** FID results; every distance is against the test split's first `count` images. */
export interface FidReport {
  /** The feature network (its name from when it was always an aekit classifier). */
  classifier: FeatureNetworkReport;
  /** The test-split statistics: the cache file, and whether it was read (true) or written. */
  reference: { cacheFile: string; cached: boolean };
  /** Images per side of every distance (n). */
  count: number;
  /** Prior samples through the decoder vs test images. */
  samples?: number;
  /** How samples were drawn: N(0, I), or a Gaussian fitted to training codes. */
  prior?: PriorKind;
  /** Why no samples were scored, when {@link samples} is absent. */
  samplesSkipped?: string;
  /** Reconstructions of the test images vs the test images. */
  reconstructions?: number;
  /** Training images vs test images: the FID of real data at the same n, for scale. */
  trainVsTest: number;
  /**
   * Set when n is below the feature dimension or below {@link FidReport} `FID_RELIABLE_COUNT`
   * (2,000): FID is biased upwards there, by an amount that depends on n, so the warning gives the
   * real-vs-real baseline at this n and recommends KID.
   */
  smallSample?: string;
}

/** KID of one comparison: the mean and spread over subsets. */
export interface KidValue {
  mean: number;
  std: number;
}

/** KID results (unbiased MMD², cubic kernel), each against the test split's first `count` images. */
export interface KidReport {
  /** The feature network (the same as FID's when both are computed). */
  network: FeatureNetworkReport;
  /** Images per side (n). */
  count: number;
  /** Subsets averaged and rows per subset (torchmetrics' 100 of 1,000; one subset of all rows when n <= the subset size). */
  subsets: number;
  subsetSize: number;
  /** Prior samples vs test images. */
  samples?: KidValue;
  /** Reconstructions of the test images vs the test images. */
  reconstructions?: KidValue;
  /** Training images vs test images: real data, for scale (near 0: KID is unbiased). */
  trainVsTest: KidValue;
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
  /**
   * What the encoder was given for its label input: 'none: ...' for an unconditional encoder;
   * for a conditional one a label-free row (`LABEL_FREE_ENCODER_INPUT`), never the image's class.
   */
  encoderLabel: string;
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

/** The report's section of each metric: what one metric runner returns. */
export type MetricResults = Partial<Pick<EvalReport, EvalMetric>>;

/** Everything `evaluate` measured. */
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
  kid?: KidReport;
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
