/**
 * `aekit eval`'s library half: a model (an `.onnx` artifact, a folder of them, or a run folder)
 * against a dataset's held-out split, giving one typed {@link EvalReport}: FID of prior samples and
 * of reconstructions against the test set (with the train-vs-test FID for scale), SSIM and PSNR of
 * reconstructions, the ELBO split and IWAE bound of VAEs, classifiers on latent codes against
 * the same classifiers on pixels, and the cycle consistency of unpaired translation models
 * (cyclegan). Every artifact runs on onnxruntime (CPU by default).
 *
 * `evaluate` loads the target and its data once, picks the metrics that apply, computes the
 * encodings they share (src/eval/context.ts), then runs one runner per metric
 * (src/eval/runners) and draws the figures.
 */
import { AekitError } from '../core/errors';
import { silentLogger } from '../core/log';
import { AEKIT_VERSION } from '../core/version';
import { labelProblem, loadedClasses } from '../data/labels';
import { EVAL_METRICS, familySupports, metricApplicability, partNames } from './applicability';
import type { EvalMetric } from './applicability';
import { checkCount, planEvaluation, shareEncodings } from './context';
import type { EvalSetup } from './context';
import { datasetName, loadEvalData } from './dataset';
import type { EvalData } from './dataset';
import { drawFigures, figureNeeds } from './figures';
import type { EvaluateOptions } from './options';
import type { EvalReport } from './report-types';
import { METRIC_RUNNERS } from './runners';
import { StageTimer } from './stage-timer';
import { loadTarget } from './target';

export { EVAL_METRICS, applicableMetrics, metricApplicability, type EvalMetric } from './applicability';
export { DEFAULT_EVAL_COUNT, DEFAULT_ELBO_COUNT, DEFAULT_LATENT_TRAIN_COUNT, DEFAULT_LATENT_TEST_COUNT, FIGURE_SIZES, type EvaluateOptions, type EvalProgress } from './options';
export type { EvalReport, EvalFigures, FidReport, KidReport, KidValue, FeatureNetworkReport, ImageMetricReport, ElboReport, LatentReport, LatentClassifierRow, TranslationReport, CycleReport } from './report-types';

/**
 * Evaluate a model: `target` is an `.onnx` artifact, a folder of artifacts, or a run folder (its
 * exported artifacts, else its latest checkpoint exported to a temporary folder).
 *
 * @throws AekitError BAD_ARGUMENT when a requested metric does not apply to the model (naming
 *   why) or the model's image shape does not fit the dataset (naming the field); FILE_NOT_FOUND
 *   for a missing target or FID classifier; the loading and export errors.
 */
export async function evaluate(target: string, options: EvaluateOptions = {}): Promise<EvalReport> {
  const logger = options.logger ?? silentLogger;
  checkCount(options.count, 'count', 2);
  checkCount(options.elboCount, 'elboCount');
  checkCount(options.latentTrainCount, 'latentTrainCount', 2);
  checkCount(options.latentTestCount, 'latentTestCount');
  const stages = new StageTimer(logger, options.onProgress);
  const loaded = await stages.timed('load model', () => loadTarget(target, { batchSize: options.batchSize, threads: options.threads, runtime: options.runtime, logger }));
  try {
    const data = await loadEvalData(loaded, options, stages);
    const { metrics, skipped } = chooseMetrics(data);
    const setup = planEvaluation(data, metrics, logger, stages);
    const report = startReport(setup, skipped);
    logger.info(`evaluating ${loaded.family} (${partNames(setup.io).join(', ')}) on ${datasetName(setup.spec)}: ${metrics.join(', ') || 'no metrics'}; ${setup.counts.count} images per comparison`);

    const runners = METRIC_RUNNERS.filter((runner) => runner.metrics.some((m) => metrics.includes(m)));
    const needs = runners.map((runner) => runner.needs?.(setup) ?? {});
    const ctx = await shareEncodings(setup, setup.drawFigures ? [...needs, figureNeeds(setup)] : needs);
    for (const runner of runners) Object.assign(report, await runner.run(ctx));
    if (ctx.drawFigures) {
      await stages.timed('figures', () => drawFigures(ctx));
      report.figures = ctx.figures;
    }
    return report;
  } finally {
    await loaded.release();
  }
}

/**
 * The metrics to compute: those asked for (each must apply), else every one that applies; and
 * the family's metrics this target cannot give, with why.
 * @throws AekitError BAD_ARGUMENT when a metric asked for does not apply.
 */
function chooseMetrics(data: EvalData): { metrics: EvalMetric[]; skipped: EvalReport['skipped'] } {
  const { io, train, target, options } = data;
  // Classifiers (on codes, or a classifier's accuracy) need labels of at least two classes among
  // the images they learn from.
  const why = metricApplicability(io, labelProblem(loadedClasses(train)) ?? true);
  // What the structure allows may still not fit the data: FID's classifier has one image shape,
  // and translation needs domain B's dataset.
  for (const runner of METRIC_RUNNERS) {
    if (!runner.dataProblem || !runner.metrics.some((m) => why[m] === undefined)) continue;
    const problem = runner.dataProblem(data);
    for (const m of runner.metrics) if (why[m] === undefined) why[m] = problem;
  }
  const requested = options.metrics && options.metrics.length > 0 ? [...new Set(options.metrics)] : undefined;
  for (const metric of requested ?? []) {
    if (why[metric]) throw new AekitError('BAD_ARGUMENT', `--${metric} does not apply: ${why[metric]}`, { where: target.source });
  }
  const metrics = requested ?? EVAL_METRICS.filter((m) => why[m] === undefined);
  // Metrics the family supports but this target cannot give (metrics of other families are not news).
  const skipped = requested ? [] : EVAL_METRICS.filter((m) => why[m] !== undefined && familySupports(io, m)).map((metric) => ({ metric, reason: why[metric]! }));
  return { metrics, skipped };
}

/** The report's header: what was evaluated on what; the runners add their sections. */
function startReport(setup: EvalSetup, skipped: EvalReport['skipped']): EvalReport {
  const { target, spec, shape, test, train } = setup;
  return {
    aekitVersion: AEKIT_VERSION,
    createdAt: new Date().toISOString(),
    target: {
      source: target.source,
      family: target.family,
      runId: target.runId,
      parts: Object.fromEntries(Object.entries(target.parts).map(([part, m]) => [part, m.path])),
      ...(target.exportedTo ? { exportedTo: target.exportedTo } : {}),
    },
    dataset: { spec, ...shape, testCount: test.count, trainCount: train.count, seed: setup.dataSeed },
    seed: setup.seed,
    count: setup.counts.count,
    skipped,
    timings: setup.stages.timings,
  };
}
