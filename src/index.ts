/**
 * aekit's library entry: the same capabilities the CLI uses, as typed functions.
 */
export { AekitError, isAekitError } from './core/errors';
export type { AekitErrorCode } from './core/errors';
export { Rng } from './core/rng';
export { useBackend, currentBackend, TFJS_BACKENDS } from './core/tfjs-backend';
export type { BackendChoice, TfjsBackendName } from './core/tfjs-backend';
export { imageGridPng, decodePng } from './core/image-io';
export { lineChartPng } from './core/plot';
export { consoleLogger, silentLogger } from './core/log';
export type { Logger, LogLevel } from './core/log';
export { AEKIT_VERSION } from './core/version';

export * from './data';

export { getFamily, familyNames, registerFamily, FAMILY_EVAL_METRICS, SAMPLE_PRIORS } from './models';
export type { BaseModelConfig, DataShape, FamilyEvalMetric, FamilyDefinition, FamilyEvaluation, FamilyModel, PartName, SamplePrior, TrainingPhase, TrainBatch, StepContext, LossTerms } from './models';

export { train, primaryMetric } from './train/trainer';
export type { SampledImages, SampleMetricsHook, TrainEvent, TrainOptions, TrainResult } from './train/trainer';
export { trainingFid, TRAINING_FID_IMAGES, TRAINING_FID_METRIC } from './train/sample-fid';
export type { TrainingFid, TrainingFidOptions } from './train/sample-fid';
export { writeProgressGif, PROGRESS_GIF } from './train/progress-gif';
export { resolveRunConfig } from './run/config';
export type { RunConfig, RunConfigInput, TrainSettings, DataSettings } from './run/config';
export { loadCheckpoint, findCheckpoint, saveCheckpoint } from './run/checkpoint';
export type { LoadedCheckpoint, TrainerState } from './run/checkpoint';
export { RunFolder } from './run/run-folder';
export type { MetricsRecord, StepRecord, EpochRecord } from './run/run-folder';
export { binaryCrossEntropy, meanSquaredError, gaussianKl, softmaxCrossEntropy, reconstructionLoss } from './models/losses';
export type { PixelReduction, ReconstructionLoss } from './models/losses';
export { Adam } from './train/optim';
export { exportTrainingStep, TRAIN_STEP_FILES, TRAIN_STEP_FORMAT, TRAIN_STEP_VERSION } from './train/engines/ort/web-bundle';
export type { TrainingStepExport, TrainingStepExportOptions, TrainStepManifest, TrainStepNoise, TrainStepTensor, TrainStepTensorRole } from './train/engines/ort/web-bundle';
export { runSweep, loadSweepConfig, resolveSweepConfig, sweepPoints, sweepMarkdown, DEFAULT_SWEEP_SPLIT } from './train/sweep';
export type { SweepConfig, SweepConfigInput, SweepOptions, SweepPoint, SweepResult, SweepRunResult } from './train/sweep';
export { quickstart, QUICKSTART_CONFIG, QUICKSTART_EVAL_COUNT, type QuickstartEvent, type QuickstartOptions, type QuickstartResult } from './train/quickstart';

export * from './eval';
export * from './eval/latent';

export * from './bench';
export { startServer, SERVE_DEFAULTS } from './serve';
export type { AekitServer, HealthReport, ServeOptions } from './serve';
