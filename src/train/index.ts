/**
 * `aekit/train`: training runs from code. {@link train} a run config (the run folder, its config
 * and metrics: `RunFolder`), the quickstart pipeline, FID during training, sweeps (local or on
 * Slurm), the fine-tuning bundle for the browser and the tfjs backend choice. Everything here is
 * typed without tfjs: models and checkpoints stay inside the run folder.
 */
export { train, primaryMetric } from './trainer';
export type { SampledImages, SampleMetricsHook, TrainEvent, TrainOptions, TrainResult } from './trainer';
export { quickstart, QUICKSTART_CONFIG, QUICKSTART_EVAL_COUNT } from './quickstart';
export type { QuickstartEvent, QuickstartOptions, QuickstartResult } from './quickstart';
export { trainingFid, TRAINING_FID_IMAGES, TRAINING_FID_METRIC } from './sample-fid';
export type { TrainingFid, TrainingFidOptions } from './sample-fid';
export { writeProgressGif, PROGRESS_GIF } from './progress-gif';
export { exportTrainingStep, TRAIN_STEP_FILES, TRAIN_STEP_FORMAT, TRAIN_STEP_VERSION } from './engines/ort/web-bundle';
export type { TrainingStepExport, TrainingStepExportOptions, TrainStepManifest, TrainStepNoise, TrainStepTensor, TrainStepTensorRole } from './engines/ort/web-bundle';
export { runSweep, loadSweepConfig, resolveSweepConfig, sweepConfigSchema, sweepPoints, sweepMarkdown, DEFAULT_POLL_SECONDS, DEFAULT_SWEEP_SPLIT, SWEEP_EXECUTORS } from './sweep';
export type { SlurmOptions, SlurmResources, SweepAction, SweepConfig, SweepConfigInput, SweepExecutor, SweepOptions, SweepPoint, SweepResult, SweepRunResult, SweepRunStatus, SweepSlurmJob } from './sweep';
export { resolveRunConfig, dataSettingsSchema, trainSettingsSchema, ENGINE_CHOICES, ENGINE_NAMES } from '../run/config';
export type { DataSettings, EngineChoice, EngineName, RunConfig, RunConfigInput, TrainSettings } from '../run/config';
export { RunFolder } from '../run/run-folder';
export type { EpochRecord, MetricsRecord, StepRecord } from '../run/run-folder';
export type { TrainerState } from '../run/checkpoint';
export { familyNames, FAMILY_EVAL_METRICS, PART_NAMES, SAMPLE_PRIORS } from '../models';
export type { BaseModelConfig, FamilyEvalMetric, PartName, SamplePrior } from '../models';
export { useBackend, currentBackend, TFJS_BACKENDS } from '../core/tfjs-backend';
export type { BackendChoice, TfjsBackendName } from '../core/tfjs-backend';
