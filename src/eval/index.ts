/**
 * The eval stage: {@link evaluate} a model against a dataset (FID, KID, SSIM, PSNR, ELBO/IWAE, latent
 * classifiers), write the report, and the building blocks it uses (metric maths, feature networks
 * with their preprocessing and the statistics cache, artifact sessions, family conventions).
 */
export * from './metrics';
export {
  evaluate,
  applicableMetrics,
  metricApplicability,
  EVAL_METRICS,
  DEFAULT_EVAL_COUNT,
  DEFAULT_ELBO_COUNT,
  DEFAULT_LATENT_TRAIN_COUNT,
  DEFAULT_LATENT_TEST_COUNT,
  FIGURE_SIZES,
  type EvalMetric,
  type EvaluateOptions,
  type EvalProgress,
  type EvalReport,
  type EvalFigures,
  type FidReport,
  type KidReport,
  type KidValue,
  type FeatureNetworkReport,
  type ImageMetricReport,
  type ElboReport,
  type LatentReport,
  type LatentClassifierRow,
  type TranslationReport,
  type CycleReport,
} from './evaluate';
export { writeReport, reportJson, reportMarkdown, formatReportTable, summaryRows, latentScatterPng, REPORT_FILES, type WriteReportOptions } from './report';
export { DEFAULT_FID_CLASSIFIER, DEFAULT_FID_IMAGE_SHAPE, FID_FEATURES_OUTPUT, FidFeatureNet, referenceStats, dataStats, type ReferenceKey, type ReferenceStats } from './fid-features';
export { fidOfFolders, saveStats, type FolderFidOptions, type FolderFidResult, type FolderFidTimings, type FidSideReport, type SavedStats } from './fid-folders';
export { readStatsFile, writeStatsFile, isStatsFileName, STATS_FILE_FORMAT, STATS_FILE_VERSION, STATS_PROVENANCE_MEMBER, type StatsFile, type StatsFileContent, type StatsProvenance } from './stats-file';
export { NpzArchive, encodeNpz, encodeNpy, decodeNpy, isZip, type NpyArray } from '../core/npz';
export { FeatureNetwork, FEATURE_BATCH_VALUES, type FeatureNetworkOptions, type FeatureNetworkDescription, type FeatureTimings } from './features/network';
export { prepareImages, inputProblem, FEATURE_RANGE_BOUNDS, type FeatureInput } from './features/preprocess';
export { resizeBilinear } from './features/resize';
export { SHIPPED_FEATURE_NETWORKS, INCEPTION_ONNX_COMMAND, shippedFeatureNetwork, featureNetworkFor, noShippedNetwork, type ShippedFeatureNetwork } from './features/shipped';
export { FID_RELIABLE_COUNT, featureNetworkFile, smallSampleWarning, smallSampleReasons } from './runners/fid';
export { CACHE_DIR_ENV, DEFAULT_CACHE_FOLDER, defaultCacheDir } from './cache';
export { OnnxModel, DEFAULT_EVAL_BATCH, DEFAULT_EVAL_RUNTIME, type FloatTensor, type OnnxModelOptions, type RowProgress } from './onnx-session';
export { ModelIo, familyEvaluation, oneHot, type TranslationDirection, type Encoded } from './model-io';
export type { FamilyEvaluation } from '../models';
export { EVAL_PRIORS, type PriorKind, type LatentPrior } from './priors';
export { loadTarget, RUN_ONNX_FOLDER, EVAL_PARTS, type EvalPart, type LoadedTarget, type LoadTargetOptions } from './target';
export { estimateElbo, likelihoodFor, describeLikelihood, logMeanExp, DEFAULT_IWAE_SAMPLES, GAUSSIAN_LIKELIHOOD_SIGMA, type ElboEstimate, type ElboInput, type ReconstructionLikelihood } from './metrics/elbo';
export { scoreClassifiers, LATENT_CLASSIFIERS, KNN_NEIGHBOURS, DENSE_CLASSIFIER_SETTINGS, type LatentClassifierName, type LabelledFeatures, type ClassifierScore, type ScoreClassifiersOptions } from './metrics/latent-classifiers';
export { RandomForest, RANDOM_FOREST_TREES, RANDOM_FOREST_MAX_DEPTH, RANDOM_FOREST_BINS, type RandomForestOptions } from './metrics/random-forest';
export { nhwcToNchw, nchwToNhwc, convertRange, toArtifactImages, fromArtifactImages, type ImageShape } from './images';
export * from './latent';
