/**
 * Times FID's maths on features of the size aekit evaluates (10,000 samples × 128 features):
 * featureStats on two sets, then frechetDistance.
 *
 *   npx tsx bench/metrics.ts [n] [d]
 */
import { Rng } from '../src/core/rng';
import { featureStats, frechetDistance } from '../src/eval/metrics';

/** Timed repetitions after one warm-up run; the median is reported. */
const REPEATS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

function main(): void {
  const n = Number(process.argv[2] ?? 10_000);
  const d = Number(process.argv[3] ?? 128);
  const rng = new Rng('bench/metrics');
  const a = rng.normalArray(n * d);
  const b = rng.normalArray(n * d).map((v, i) => 1.1 * v + (i % d) * 0.01);
  const stats: number[] = [];
  const distance: number[] = [];
  let fid = NaN;
  for (let rep = 0; rep <= REPEATS; rep++) {
    const t0 = performance.now();
    const sa = featureStats(a, n, d);
    const sb = featureStats(b, n, d);
    const t1 = performance.now();
    fid = frechetDistance(sa, sb);
    const t2 = performance.now();
    if (rep > 0) {
      stats.push((t1 - t0) / 2);
      distance.push(t2 - t1);
    }
  }
  const [s, f] = [median(stats), median(distance)];
  process.stdout.write(
    `${n}x${d} features, median of ${REPEATS}: featureStats ${s.toFixed(1)} ms per set, ` +
      `frechetDistance ${f.toFixed(1)} ms; one FID from two feature sets ${(2 * s + f).toFixed(1)} ms ` +
      `(FID = ${fid.toFixed(4)})\n`,
  );
}

main();
