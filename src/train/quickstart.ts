/**
 * The quickstart pipeline (`aekit quickstart`, the README's first command): train the shipped small
 * conv VAE recipe on MNIST, export it to ONNX in `<run>/onnx` and evaluate the artifacts (FID when
 * the MNIST classifier is installed, SSIM, PSNR, ELBO), with the report in `<run>/eval`.
 *
 * The library never prints: each stage's progress goes to `onEvent`, and its log lines to the logger.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readJsonFile } from '../core/json-file';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { EXPERIMENTS_DIR } from '../core/paths';
import { evaluate } from '../eval/evaluate';
import type { EvalMetric, EvalProgress, EvalReport } from '../eval/evaluate';
import { DEFAULT_FID_CLASSIFIER } from '../eval/fid-features';
import { writeReport } from '../eval/report';
import { RUN_ONNX_FOLDER } from '../eval/target';
import { exportRun } from '../export/run-export';
import type { ExportRunResult } from '../export/run-export';
import { train } from './trainer';
import type { TrainEvent, TrainResult } from './trainer';

/** The recipe the quickstart runs. */
export const QUICKSTART_CONFIG = path.join(EXPERIMENTS_DIR, 'quickstart.json');

/**
 * Test images the quickstart evaluates on: half the MNIST test split keeps evaluating the
 * quickstart VAE (FID, SSIM, PSNR, ELBO) at ~16 s on 2 cores (measured; docs/benchmarks.md), next
 * to minutes of training; `aekit eval` uses all 10,000.
 */
export const QUICKSTART_EVAL_COUNT = 5000;

/**
 * The ELBO/IWAE estimate decodes each image K = 64 times (7 s for 500 images of this VAE on 2
 * cores): a tenth of the evaluated images keeps it under half of the evaluation time.
 */
const QUICKSTART_ELBO_FRACTION = 0.1;

/** Folder of the evaluation report inside the run folder. */
const QUICKSTART_REPORT_FOLDER = 'eval';

/** Progress of {@link quickstart}, stage by stage. */
export type QuickstartEvent =
  /** Training progress, as {@link train} reports it. */
  | { type: 'train'; event: TrainEvent }
  /** Training ended (finished or interrupted); export follows unless it was interrupted or evaluation is off. */
  | { type: 'trained'; result: TrainResult }
  | { type: 'exported'; result: ExportRunResult }
  /** Evaluation progress, as {@link evaluate} reports it. */
  | { type: 'evaluate'; progress: EvalProgress };

/** Options of {@link quickstart}. */
export interface QuickstartOptions {
  /** Where the run folder goes (default 'runs'); an existing `<outDir>/quickstart` is replaced. */
  outDir?: string;
  /** Override the recipe's number of epochs (smoke tests). */
  epochs?: number;
  /** Use only the first `limit` MNIST images (smoke tests); also caps the evaluated images. */
  limit?: number;
  /** Test images to evaluate on (default {@link QUICKSTART_EVAL_COUNT}, at most `limit`). */
  evalCount?: number;
  /** Export and evaluate after training (default true). */
  evaluate?: boolean;
  logger?: Logger;
  /** When aborted, training stops after the current step and writes a checkpoint; nothing is exported. */
  signal?: AbortSignal;
  onEvent?: (event: QuickstartEvent) => void;
}

/** What {@link quickstart} did. */
export interface QuickstartResult {
  train: TrainResult;
  /** The exported artifacts (absent when evaluation is off or training was interrupted). */
  export?: ExportRunResult;
  /** The evaluation (absent when evaluation is off or training was interrupted). */
  report?: EvalReport;
  /** Folder of the written report (report.json, report.md, figures). */
  reportDir?: string;
}

/** The recipe with the options' overrides: output folder, epochs, MNIST images. */
async function quickstartConfig(options: QuickstartOptions): Promise<Record<string, unknown>> {
  const recipe = (await readJsonFile(QUICKSTART_CONFIG, { what: 'config file', object: true })) as {
    train?: Record<string, unknown>;
    data?: { dataset?: Record<string, unknown> } & Record<string, unknown>;
  } & Record<string, unknown>;
  return {
    ...recipe,
    outDir: options.outDir ?? 'runs',
    train: { ...recipe.train, ...(options.epochs !== undefined ? { epochs: options.epochs } : {}) },
    data: { ...recipe.data, dataset: { ...recipe.data?.dataset, ...(options.limit !== undefined ? { limit: options.limit } : {}) } },
  };
}

/**
 * Train the quickstart VAE, export it to `<run>/onnx` and evaluate it on MNIST's test split.
 *
 * @throws AekitError from the stages: an unreadable recipe, training, export or evaluation errors.
 */
export async function quickstart(options: QuickstartOptions = {}): Promise<QuickstartResult> {
  const logger = options.logger ?? silentLogger;
  const onEvent = options.onEvent ?? (() => {});
  const trained = await train(await quickstartConfig(options), {
    resume: false,
    overwrite: true,
    logger,
    signal: options.signal,
    onEvent: (event) => onEvent({ type: 'train', event }),
  });
  onEvent({ type: 'trained', result: trained });
  if (options.evaluate === false || trained.interrupted) return { train: trained };

  const onnxDir = path.join(trained.runDir, RUN_ONNX_FOLDER);
  const exported = await exportRun(trained.runDir, { out: onnxDir, force: true, logger });
  onEvent({ type: 'exported', result: exported });
  const count = options.evalCount ?? Math.min(QUICKSTART_EVAL_COUNT, Math.max(2, options.limit ?? QUICKSTART_EVAL_COUNT));
  const metrics: EvalMetric[] = ['ssim', 'psnr', 'elbo'];
  if (existsSync(DEFAULT_FID_CLASSIFIER)) metrics.unshift('fid');
  else logger.warn(`FID skipped: the MNIST classifier ${DEFAULT_FID_CLASSIFIER} is not installed`);
  logger.info(`evaluating ${onnxDir} on ${count} MNIST test images (aekit eval uses all 10,000)`);
  const report = await evaluate(onnxDir, {
    metrics,
    count,
    elboCount: Math.max(1, Math.round(count * QUICKSTART_ELBO_FRACTION)),
    logger,
    onProgress: (progress) => onEvent({ type: 'evaluate', progress }),
  });
  const files = await writeReport(path.join(trained.runDir, QUICKSTART_REPORT_FOLDER), report);
  return { train: trained, export: exported, report, reportDir: path.dirname(files[0]) };
}
