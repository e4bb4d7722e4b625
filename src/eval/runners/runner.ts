/**
 * What a metric runner is: one metric's (or one pair's, SSIM and PSNR) computation over the
 * shared evaluation context. `evaluate` runs them in `METRIC_RUNNERS` order (src/eval/runners/index.ts).
 */
import type { EvalMetric } from '../applicability';
import type { EncodingNeeds, EvalContext, EvalSetup } from '../context';
import type { EvalData } from '../dataset';
import type { MetricResults } from '../report-types';

/** One metric's computation. */
export interface MetricRunner {
  /** The report sections it fills: it runs when any of them is asked for. */
  readonly metrics: readonly EvalMetric[];
  /**
   * Why it cannot run on this data although the model's structure allows it (FID's classifier
   * takes one image shape; translation needs domain B's dataset), or undefined when it can.
   */
  dataProblem?(data: EvalData): string | undefined;
  /** The shared encodings it reads, so that they are computed once, before any runner runs. */
  needs?(setup: EvalSetup): EncodingNeeds;
  /** Compute its metrics; a section it cannot fill for this model is left out. */
  run(ctx: EvalContext): Promise<MetricResults>;
}

/** True when the evaluation computes `metric`. */
export function wants(setup: EvalSetup, metric: EvalMetric): boolean {
  return setup.metrics.includes(metric);
}
