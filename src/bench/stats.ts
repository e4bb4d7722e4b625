/** Summary statistics of repeated timings. */

/** Latency summary of one runtime at one batch size, in milliseconds. */
export interface LatencySummary {
  /** Number of timed runs. */
  count: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
  /** Sample standard deviation (0 for one run). */
  stdev: number;
  /** Interquartile range p75 - p25: the spread shown next to the median. */
  iqr: number;
}

/**
 * Percentile by linear interpolation between closest ranks (numpy's default, 'linear'), so the
 * figures match what `numpy.percentile` gives on the same samples.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Summarise timings (any order). */
export function summarise(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const count = sorted.length;
  const mean = count ? sorted.reduce((a, b) => a + b, 0) / count : NaN;
  const variance = count > 1 ? sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / (count - 1) : 0;
  return {
    count,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    mean,
    min: count ? sorted[0] : NaN,
    max: count ? sorted[count - 1] : NaN,
    stdev: Math.sqrt(variance),
    iqr: percentile(sorted, 75) - percentile(sorted, 25),
  };
}
