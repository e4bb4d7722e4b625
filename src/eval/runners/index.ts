/**
 * The metric runners, in the order `evaluate` runs them: the report's order (`EVAL_METRICS`).
 * Each draws from its own seeded streams, so that the order changes no figure; it stays fixed so
 * that timings and logs read the same from run to run.
 */
import { accuracyRunner } from './accuracy';
import { elboRunner } from './elbo';
import { fidRunner } from './fid';
import { latentRunner } from './latent';
import { reconstructionRunner } from './reconstruction';
import type { MetricRunner } from './runner';
import { translationRunner } from './translation';

export { wants, type MetricRunner } from './runner';

/** Every metric runner, one per metric (SSIM and PSNR share one), in report order. */
export const METRIC_RUNNERS: readonly MetricRunner[] = Object.freeze([fidRunner, reconstructionRunner, elboRunner, latentRunner, accuracyRunner, translationRunner]);
