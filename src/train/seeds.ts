/**
 * The random streams of a run. Each is derived from the run's seed under its own name
 * (`Rng.derive(seed, name, ...)`), so that no two streams coincide and a resumed run replays
 * every one of them.
 */

/** Names of a run's random streams. */
export const SEED_STREAMS = {
  step: 'step',
  validation: 'validation',
  samples: 'samples',
  split: 'split',
  model: 'model',
  domainB: 'domain-b',
  sampleMetrics: 'sample-metrics',
} as const;
