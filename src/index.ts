/**
 * aekit's library entry (`import ... from 'aekit'`): one typed function for each thing the CLI
 * does, the metric functions, the data loaders, and the types their options and results need.
 * The README's "Use aekit as a library" section documents each.
 *
 * The building blocks behind them live under subpaths, one per stage: `aekit/data`,
 * `aekit/artifact`, `aekit/export`, `aekit/eval`, `aekit/train`, `aekit/serve`, `aekit/bench`;
 * the browser module is `aekit/web`. No public type mentions tfjs.
 *
 * To publish a function here: one line below, from its stage's index, then `npm run api`
 * (etc/aekit.api.md records the public API; `npm test` checks it).
 */

// Errors, logging, version.
export { AekitError, isAekitError } from './core/errors';
export type { AekitErrorCode } from './core/errors';
export { consoleLogger, silentLogger } from './core/log';
export type { Logger, LogLevel } from './core/log';
export { AEKIT_VERSION } from './core/version';
export { compareClose, FP16_CLOSE, FP32_CLOSE } from './core/allclose';
export type { Closeness, Tolerance, WorstElement } from './core/allclose';

// Data: bundled sets, IDX files, image folders (`aekit/data` has transforms, splits, the registry).
export { loadDataset, loadFashionMnist, loadIdxDataset, loadImageFolder, loadMnist } from './data';
export type { DatasetSpec, FolderDataset, ImageDataset, ImageFolderOptions, MnistOptions, Split, ValueRange } from './data';

// Train (`aekit quickstart`, `train`, `sweep`, `export --part train-step`).
export { quickstart, train, trainingFid, runSweep, loadSweepConfig, exportTrainingStep, familyNames } from './train';
export type { QuickstartEvent, QuickstartOptions, QuickstartResult, TrainEvent, TrainOptions, TrainResult, TrainingFid, TrainingFidOptions } from './train';
export type { RunConfig, RunConfigInput, SlurmOptions, SweepConfig, SweepOptions, SweepResult, SweepRunResult, SweepSlurmJob, TrainingStepExport, TrainingStepExportOptions } from './train';

// Export (`aekit export`).
export { exportRun } from './export';
export type { ExportRunOptions, ExportRunResult } from './export';

// Evaluate (`aekit eval`) and the metric functions (`aekit/eval` has the latent tools of `aekit latent`).
export { evaluate, EVAL_METRICS, writeReport, reportJson, formatReportTable, fidOfFolders, saveStats } from './eval';
export type { EvalMetric, EvalProgress, EvalReport, EvaluateOptions, WriteReportOptions, FidSideReport, FolderFidOptions, FolderFidResult, FolderFidTimings, SavedStats } from './eval';
export { FeatureNetwork, featureStats, frechetDistance, kid, mmdOfSubsets, ssim, meanSsim, psnr, meanPsnr } from './eval';
export type { FeatureNetworkOptions, FeatureStats, ImageMetricOptions, ImageShape, KidOptions, KidResult } from './eval';

// Serve (`aekit serve`, `aekit export --web`).
export { startServer, exportWebDemo } from './serve';
export type { AekitServer, ExportWebDemoOptions, HealthReport, ServeOptions, WebDemoResult } from './serve';

// Bench (`aekit bench`).
export { benchmark, formatBenchTable, writeBenchReport } from './bench';
export type { BenchOptions, BenchReport } from './bench';
