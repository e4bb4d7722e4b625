import { strict as assert } from 'node:assert';
import { loadMetricReference, readF32 } from '../../../scripts/make-metric-fixtures';
import { isAekitError } from '../../../src/core/errors';
import { Rng } from '../../../src/core/rng';
import { featureStats, frechetDistance, type FeatureStats } from '../../../src/eval/metrics';

/** Agreement with pytorch-fid's formula (numpy/scipy), relative: the acceptance criterion of issue #4. */
const FID_RELATIVE_TOLERANCE = 1e-6;

/**
 * Absolute floor of the allowed error, as a fraction of Tr(S1) + Tr(S2). The FID is a difference
 * of terms of that size, so float64 rounding (unit 1.1e-16, accumulated over d = 64 terms) leaves
 * an absolute error of order d·u·(Tr S1 + Tr S2) ≈ 7e-15·(Tr S1 + Tr S2) in any implementation,
 * whatever the FID. Near FID = 0 (the near-identical fixture: FID ≈ 2e-6, Tr S1 + Tr S2 ≈ 130) a
 * relative bound is meaningless, so the bound there is this floor, ~100× above d·u.
 */
const FID_ABSOLUTE_TOLERANCE_PER_TRACE = 1e-12;

/** featureStats against a naive float64 two-pass computation: only summation order differs. */
const STATS_RELATIVE_TOLERANCE = 1e-12;

/** "Noise vs real-ish features is large": at least this many times the FID of two samples of one distribution. */
const NOISE_FID_FACTOR = 10;

const reference = loadMetricReference();

function traceSum(a: FeatureStats, b: FeatureStats): number {
  const d = a.mean.length;
  let t = 0;
  for (let j = 0; j < d; j++) t += a.cov[j * d + j] + b.cov[j * d + j];
  return t;
}

function tolerance(expected: number, a: FeatureStats, b: FeatureStats): number {
  return Math.max(FID_RELATIVE_TOLERANCE * Math.abs(expected), FID_ABSOLUTE_TOLERANCE_PER_TRACE * traceSum(a, b));
}

function statsOf(file: string, n: number, d: number): FeatureStats {
  return featureStats(readF32(file), n, d);
}

function expectBadArgument(fn: () => unknown, where: string): void {
  assert.throws(fn, (e: unknown) => isAekitError(e) && e.code === 'BAD_ARGUMENT' && (e.where ?? '').includes(where));
}

describe('eval/metrics/fid', () => {
  for (const c of reference.fid.cases) {
    it(`agrees with pytorch-fid on '${c.name}' (${c.description})`, () => {
      const a = statsOf(c.a, c.nA, c.d);
      const b = statsOf(c.b, c.nB, c.d);
      const got = frechetDistance(a, b);
      const tol = tolerance(c.value, a, b);
      assert.ok(Math.abs(got - c.value) <= tol, `FID ${got}, reference ${c.value} (${c.command}), tolerance ${tol}`);
    });
  }

  it('is symmetric and ~0 between a set and itself (full-rank and singular covariances)', () => {
    for (const c of reference.fid.cases) {
      const a = statsOf(c.a, c.nA, c.d);
      const b = statsOf(c.b, c.nB, c.d);
      const self = frechetDistance(a, a);
      assert.ok(Math.abs(self) <= FID_ABSOLUTE_TOLERANCE_PER_TRACE * traceSum(a, a), `FID(${c.a}, itself) = ${self}`);
      const ab = frechetDistance(a, b);
      assert.ok(Math.abs(ab - frechetDistance(b, a)) <= tolerance(ab, a, b), `${c.name}: FID not symmetric`);
    }
  });

  it('is large between uniform noise and real-ish features', () => {
    const same = reference.fid.cases.find((c) => c.name === 'same-distribution');
    assert.ok(same, 'reference.json has a same-distribution case');
    const real = statsOf(same.a, same.nA, same.d);
    const rng = Rng.derive(0, 'test', 'fid-noise');
    const noise = Float32Array.from({ length: same.nA * same.d }, () => rng.next());
    const fid = frechetDistance(featureStats(noise, same.nA, same.d), real);
    assert.ok(fid > NOISE_FID_FACTOR * same.value, `FID(noise, real) = ${fid}, FID(real, real') = ${same.value}`);
  });

  it('featureStats equals a naive float64 mean and unbiased covariance (row count not a multiple of the block)', () => {
    const c = reference.fid.cases[0];
    const n = 45;
    const d = c.d;
    const x = readF32(c.a).subarray(0, n * d);
    const { mean, cov } = featureStats(x, n, d);
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let r = 0; r < n; r++) m += x[r * d + j];
      m /= n;
      assert.ok(Math.abs(mean[j] - m) <= STATS_RELATIVE_TOLERANCE * Math.max(1, Math.abs(m)), `mean[${j}]`);
    }
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += (x[r * d + i] - mean[i]) * (x[r * d + j] - mean[j]);
        s /= n - 1;
        const tol = STATS_RELATIVE_TOLERANCE * Math.max(1, Math.abs(s));
        assert.ok(Math.abs(cov[i * d + j] - s) <= tol, `cov[${i}, ${j}]`);
        assert.equal(cov[i * d + j], cov[j * d + i], `cov symmetric at ${i}, ${j}`);
      }
    }
  });

  it('rejects bad arguments, naming them', () => {
    const d = 3;
    const ok = featureStats(Float32Array.from([1, 2, 3, 4, 5, 7, 0, 1, 1]), 3, d);
    expectBadArgument(() => featureStats(new Float32Array(8), 3, d), 'featureStats(features)');
    expectBadArgument(() => featureStats(new Float32Array(3), 1, d), 'featureStats(n)');
    expectBadArgument(() => featureStats(new Float32Array(6), 3, 2.5), 'featureStats(d)');
    expectBadArgument(() => featureStats(Float32Array.from([1, 2, NaN, 4, 5, 6]), 2, d), 'featureStats(features)');
    expectBadArgument(() => frechetDistance(ok, { mean: new Float64Array(2), cov: ok.cov }), 'frechetDistance(b).mean');
    expectBadArgument(() => frechetDistance({ mean: ok.mean, cov: new Float64Array(4) }, ok), 'frechetDistance(a).cov');
    const infinite = Float64Array.from(ok.cov);
    infinite[4] = Infinity;
    expectBadArgument(() => frechetDistance(ok, { mean: ok.mean, cov: infinite }), 'frechetDistance(b).cov');
    const empty = { mean: new Float64Array(0), cov: new Float64Array(0) };
    expectBadArgument(() => frechetDistance(empty, ok), 'frechetDistance(a).mean');
  });

  it('throws EVAL_FAILED instead of returning NaN when the covariance product overflows', () => {
    const d = 4;
    const cov = new Float64Array(d * d);
    for (let j = 0; j < d; j++) cov[j * d + j] = Number.MAX_VALUE / 16;
    const stats = { mean: new Float64Array(d), cov };
    assert.throws(
      () => frechetDistance(stats, stats),
      (e: unknown) => isAekitError(e) && e.code === 'EVAL_FAILED',
    );
  });

  it('is never negative or NaN: a statistic that is no covariance is an error naming it, and rounding below 0 is 0', () => {
    for (const c of reference.fid.cases) {
      const a = statsOf(c.a, c.nA, c.d);
      assert.ok(frechetDistance(a, a) >= 0, `FID(${c.name}, itself) = ${frechetDistance(a, a)}`);
    }
    const c = reference.fid.cases[0];
    const a = statsOf(c.a, c.nA, c.d);
    const b = statsOf(c.b, c.nB, c.d);
    const damaged = (edit: (cov: Float64Array) => void) => {
      const cov = Float64Array.from(b.cov);
      edit(cov);
      return { mean: b.mean, cov };
    };
    const cases: [string, FeatureStats, RegExp][] = [
      ['negative variance', damaged((cov) => (cov[0] = -1e6)), /variance \[0\]\[0\] is negative \(-1000000\)/],
      ['asymmetric', damaged((cov) => (cov[1] = 0)), /not symmetric: \[0\]\[1\] is 0/],
      ['indefinite', damaged((cov) => (cov[1] = cov[c.d] = 10 * Math.sqrt(cov[0] * cov[c.d + 1]))), /not positive semi-definite: its smallest eigenvalue is -/],
    ];
    for (const [name, bad, pattern] of cases) {
      assert.throws(
        () => frechetDistance(a, bad),
        (e: unknown) => isAekitError(e) && e.code === 'BAD_ARGUMENT' && e.where === 'frechetDistance(b).cov' && pattern.test(e.message),
        name,
      );
    }
  });
});
