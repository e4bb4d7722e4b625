/**
 * What checking FID statistics costs (src/eval/metrics/fid.ts `covarianceProblem`: finite values,
 * symmetry, a Cholesky factorisation for negative eigenvalues), beside the Fréchet distance it
 * guards, at each feature size given (default 128 and 2048: the shipped classifiers and
 * InceptionV3). Features are seeded uniform noise, d + 100 rows. `--distance` also times
 * frechetDistance (minutes at d = 2048).
 *
 *   npx tsx bench/covariance-check.ts [--distance] [d ...]
 */
import { Rng } from '../src/core/rng';
import { covarianceProblem, featureStats, frechetDistance } from '../src/eval/metrics';

function timed(run: () => unknown): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

function main(): void {
  const args = process.argv.slice(2);
  const withDistance = args.includes('--distance');
  const sizes = args.filter((a) => a !== '--distance').map(Number);
  for (const d of sizes.length > 0 ? sizes : [128, 2048]) {
    const n = d + 100;
    const rng = new Rng(1);
    const stats = featureStats(Float32Array.from({ length: n * d }, () => rng.next()), n, d);
    const check = timed(() => covarianceProblem(stats.cov, d));
    const distance = withDistance ? ` | frechetDistance (checks of both included) ${timed(() => frechetDistance(stats, stats)).toFixed(0)} ms` : '';
    console.log(`d = ${d}: covarianceProblem ${check.toFixed(0)} ms${distance}`);
  }
}

main();
