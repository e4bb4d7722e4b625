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

export { getFamily, familyNames, registerFamily } from './models';
export type { BaseModelConfig, DataShape, FamilyDefinition, FamilyModel, PartName, TrainingPhase, TrainBatch, StepContext, LossTerms } from './models';

export { train, primaryMetric } from './train/trainer';
export type { TrainEvent, TrainOptions, TrainResult } from './train/trainer';
export { resolveRunConfig } from './train/config';
export type { RunConfig, RunConfigInput, TrainSettings, DataSettings } from './train/config';
export { loadCheckpoint, findCheckpoint, saveCheckpoint } from './train/checkpoint';
export type { LoadedCheckpoint, TrainerState } from './train/checkpoint';
export { RunFolder } from './train/run-folder';
export type { MetricsRecord, StepRecord, EpochRecord } from './train/run-folder';
export { binaryCrossEntropy, meanSquaredError, gaussianKl, softmaxCrossEntropy, reconstructionLoss } from './train/losses';
export type { PixelReduction, ReconstructionLoss } from './train/losses';
export { Adam } from './train/optim';

export * from './eval/metrics';
