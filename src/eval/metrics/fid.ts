/**
 * Fréchet distance between two sets of feature vectors (the maths of FID; the classifier that
 * produces the features lives elsewhere). Matches pytorch-fid's `calculate_frechet_distance`
 * applied to `numpy.mean` / `numpy.cov(rowvar=False)` statistics.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { AekitError } from '../../core/errors';

/**
 * pytorch-fid's `eps` argument of `calculate_frechet_distance` (default 1e-6): the offset added to
 * the diagonal of both covariances when the square root of their product comes out non-finite.
 */
export const FID_EPS = 1e-6;

/**
 * Tolerance of {@link covarianceProblem}, relative to the covariance's trace: how far from
 * symmetric two mirrored entries may be, and how negative an eigenvalue may be, before the matrix
 * is not a covariance. Rounding in a computed covariance stays far below it (entries are mirrored
 * exactly by {@link featureStats}; a rank-deficient one has eigenvalues of order -1e-16·trace),
 * while a damaged one (a variance of -1e6, an entry nulled) exceeds it by orders of magnitude.
 */
export const COVARIANCE_TOLERANCE = 1e-9;

/**
 * Rows of centred features folded into the d×d scatter accumulator per pass over it (the update
 * loop below is unrolled for exactly this many). Fewer passes mean fewer loads and stores of the
 * accumulator: on 10,000×128 features, 1 row per pass took ~120 ms, 2 rows ~75 ms, 8 rows ~50 ms
 * (bench/metrics.ts; ml-matrix's `gram()` took ~210 ms).
 */
const SCATTER_ROW_BLOCK = 8;

/** Mean and covariance of a set of feature vectors, in float64. */
export interface FeatureStats {
  /** Mean feature vector, length d. */
  mean: Float64Array;
  /** Covariance, row-major d×d, unbiased (divided by n - 1). */
  cov: Float64Array;
}

/**
 * Mean and unbiased covariance of `n` feature vectors of length `d`, like
 * `numpy.mean(f, axis=0)` and `numpy.cov(f, rowvar=False)`. Accumulated in float64 from the
 * float32 input (two passes: the mean, then the scatter of the centred rows).
 *
 * @param features - Row-major n×d features (one row per sample).
 * @param n - Number of samples (at least 2).
 * @param d - Feature dimension.
 * @throws AekitError `BAD_ARGUMENT` when the sizes disagree or a feature is not finite.
 */
export function featureStats(features: Float32Array, n: number, d: number): FeatureStats {
  checkCount(n, 'n', 2);
  checkCount(d, 'd', 1);
  if (features.length !== n * d) {
    throw new AekitError('BAD_ARGUMENT', `expected n*d = ${n}*${d} = ${n * d} values, found ${features.length}`, {
      where: 'featureStats(features)',
    });
  }

  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const row = r * d;
    for (let j = 0; j < d; j++) {
      const v = features[row + j];
      if (!Number.isFinite(v)) {
        throw new AekitError('BAD_ARGUMENT', `expected finite features, found ${v} at row ${r}, column ${j}`, {
          where: 'featureStats(features)',
        });
      }
      mean[j] += v;
    }
  }
  for (let j = 0; j < d; j++) mean[j] /= n;

  // Upper triangle of sum over rows of (x - mean)(x - mean)^T, SCATTER_ROW_BLOCK rows at a time.
  const scatter = new Float64Array(d * d);
  const centred = new Float64Array(SCATTER_ROW_BLOCK * d);
  const rows = Array.from({ length: SCATTER_ROW_BLOCK }, (_, k) => centred.subarray(k * d, (k + 1) * d));
  const [c0, c1, c2, c3, c4, c5, c6, c7] = rows;
  let r = 0;
  for (; r + SCATTER_ROW_BLOCK <= n; r += SCATTER_ROW_BLOCK) {
    for (let k = 0, base = r * d; k < SCATTER_ROW_BLOCK; k++, base += d) {
      const row = rows[k];
      for (let j = 0; j < d; j++) row[j] = features[base + j] - mean[j];
    }
    for (let i = 0; i < d; i++) {
      const a0 = c0[i], a1 = c1[i], a2 = c2[i], a3 = c3[i];
      const a4 = c4[i], a5 = c5[i], a6 = c6[i], a7 = c7[i];
      const out = i * d;
      for (let j = i; j < d; j++) {
        scatter[out + j] +=
          a0 * c0[j] + a1 * c1[j] + a2 * c2[j] + a3 * c3[j] + a4 * c4[j] + a5 * c5[j] + a6 * c6[j] + a7 * c7[j];
      }
    }
  }
  for (; r < n; r++) {
    const base = r * d;
    for (let j = 0; j < d; j++) c0[j] = features[base + j] - mean[j];
    for (let i = 0; i < d; i++) {
      const a0 = c0[i];
      const out = i * d;
      for (let j = i; j < d; j++) scatter[out + j] += a0 * c0[j];
    }
  }

  // Scale in place and mirror the upper triangle: the scatter matrix becomes the covariance.
  const cov = scatter;
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = scatter[i * d + j] / (n - 1);
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
  }
  return { mean, cov };
}

/**
 * Fréchet distance between the Gaussians N(a.mean, a.cov) and N(b.mean, b.cov), exactly
 * pytorch-fid's definition: |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr(sqrtm(S1 S2)).
 *
 * Tr(sqrtm(S1 S2)) is computed from symmetric eigendecompositions rather than a general matrix
 * square root: with S1 = U Λ U^T, S1 S2 is similar to sqrt(S1) S2 sqrt(S1), which is symmetric
 * positive semi-definite, so the trace is the sum of the square roots of its eigenvalues. Tiny
 * negative eigenvalues (rounding) are clamped to 0, which is what taking the real part of scipy's
 * complex `sqrtm` does.
 *
 * The eps offset: pytorch-fid calls `scipy.linalg.sqrtm(S1 @ S2)` and, only if the result has a
 * non-finite entry, retries with {@link FID_EPS}·I added to both covariances. We reproduce that
 * rule literally: the offset is applied only when the un-offset trace is non-finite. It is *not*
 * applied merely because a covariance is singular (n < d, dead features): scipy >= 1.16's Schur
 * square root returns finite values for such products (checked with scipy 1.17.1 for n < d,
 * all-zero feature columns and complementary ranges), so the reference value there is the
 * un-offset one, and applying the offset would move the result by ~5e-5 relative (measured on
 * fixtures/metrics' rank-deficient case; ~9e-5 on its same-distribution case). With finite
 * inputs our trace is non-finite only on overflow (covariance entries beyond ~1e154), where the
 * offset does not help either; the function then throws instead of returning NaN.
 *
 * @param a - Statistics of the first set (e.g. real images), as from {@link featureStats}.
 * @param b - Statistics of the second set (e.g. generated images), same dimension.
 * @returns The squared Fréchet distance (what papers call FID), >= 0 (a negative rounding error is 0).
 * @throws AekitError `BAD_ARGUMENT` when a length is wrong, a value is not finite or a covariance
 *   is not one ({@link covarianceProblem}); `EVAL_FAILED` when the computation overflows.
 */
export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  const d = a.mean.length;
  checkStats(a, d, 'a');
  checkStats(b, d, 'b');

  let meanTerm = 0;
  for (let j = 0; j < d; j++) {
    const diff = a.mean[j] - b.mean[j];
    meanTerm += diff * diff;
  }
  let traceTerm = 0;
  for (let j = 0; j < d; j++) traceTerm += a.cov[j * d + j] + b.cov[j * d + j];

  let covmeanTrace = traceSqrtProduct(a.cov, b.cov, d);
  if (!Number.isFinite(covmeanTrace)) {
    covmeanTrace = traceSqrtProduct(withDiagonalOffset(a.cov, d, FID_EPS), withDiagonalOffset(b.cov, d, FID_EPS), d);
  }
  let distance = meanTerm + traceTerm - 2 * covmeanTrace;
  if (!Number.isFinite(distance)) {
    throw new AekitError(
      'EVAL_FAILED',
      `Fréchet distance overflowed (found ${distance}, even with eps = ${FID_EPS} added to the covariances); ` +
        'the features are too large in magnitude',
      { where: 'frechetDistance' },
    );
  }
  if (distance < 0) {
    // With two covariances (checked above) the distance is >= 0: a negative one is rounding, of
    // the order of the terms it is the difference of.
    const rounding = COVARIANCE_TOLERANCE * (meanTerm + traceTerm);
    if (distance < -rounding) {
      throw new AekitError('EVAL_FAILED', `Fréchet distance came out negative (${distance}) beyond rounding (${rounding}); the statistics are not of real features`, { where: 'frechetDistance' });
    }
    distance = 0;
  }
  return distance;
}

/**
 * What keeps `cov` (row-major d×d) from being a covariance, or undefined when nothing does:
 * a non-finite entry, an asymmetric pair, a negative variance, or an eigenvalue below
 * -{@link COVARIANCE_TOLERANCE}·trace. The last is a Cholesky factorisation of cov + tolerance·I,
 * which succeeds exactly when no eigenvalue is below the tolerance (d³/6 multiply-adds; the
 * smallest eigenvalue is computed for the message only when it fails).
 */
export function covarianceProblem(cov: Float64Array, d: number): string | undefined {
  if (cov.length !== d * d) return `expected d*d = ${d * d} entries, found ${cov.length}`;
  let trace = 0;
  for (let i = 0; i < cov.length; i++) {
    if (!Number.isFinite(cov[i])) return `entry [${Math.floor(i / d)}][${i % d}] is ${cov[i]}`;
  }
  for (let j = 0; j < d; j++) trace += Math.abs(cov[j * d + j]);
  const tolerance = COVARIANCE_TOLERANCE * trace;
  for (let j = 0; j < d; j++) {
    if (cov[j * d + j] < -tolerance) return `variance [${j}][${j}] is negative (${cov[j * d + j]})`;
  }
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      if (Math.abs(cov[i * d + j] - cov[j * d + i]) > tolerance) return `not symmetric: [${i}][${j}] is ${cov[i * d + j]}, [${j}][${i}] is ${cov[j * d + i]}`;
    }
  }
  if (choleskyWithShift(cov, d, tolerance)) return undefined;
  const eigenvalues = new EigenvalueDecomposition(toMatrix(cov, d), { assumeSymmetric: true }).realEigenvalues;
  return `not positive semi-definite: its smallest eigenvalue is ${Math.min(...eigenvalues)} (the tolerance is ${-tolerance})`;
}

/** Whether the lower Cholesky factor of cov + shift·I exists (every pivot positive). */
function choleskyWithShift(cov: Float64Array, d: number, shift: number): boolean {
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const rowJ = j * d;
    let pivot = cov[rowJ + j] + shift;
    for (let k = 0; k < j; k++) pivot -= l[rowJ + k] * l[rowJ + k];
    if (!(pivot > 0)) return false;
    const root = Math.sqrt(pivot);
    l[rowJ + j] = root;
    for (let i = j + 1; i < d; i++) {
      const rowI = i * d;
      let sum = cov[rowI + j];
      for (let k = 0; k < j; k++) sum -= l[rowI + k] * l[rowJ + k];
      l[rowI + j] = sum / root;
    }
  }
  return true;
}

/** Tr(sqrtm(S1 S2)) for symmetric positive semi-definite d×d S1, S2 (row-major). */
function traceSqrtProduct(s1: Float64Array, s2: Float64Array, d: number): number {
  const e1 = new EigenvalueDecomposition(toMatrix(s1, d), { assumeSymmetric: true });
  const u = e1.eigenvectorMatrix;
  const rootLambda = e1.realEigenvalues.map((l) => Math.sqrt(Math.max(l, 0)));
  // sqrt(S1) S2 sqrt(S1) = U [sqrt(Λ) (U^T S2 U) sqrt(Λ)] U^T: the bracket has the same eigenvalues,
  // so decompose it directly and save a d×d product.
  const w = u.transposeMultiply(toMatrix(s2, d).mmul(u));
  const m = new Matrix(d, d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const v = 0.5 * (w.get(i, j) + w.get(j, i)) * rootLambda[i] * rootLambda[j];
      m.set(i, j, v);
      m.set(j, i, v);
    }
  }
  const e2 = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  let trace = 0;
  for (const l of e2.realEigenvalues) trace += Math.sqrt(Math.max(l, 0));
  return trace;
}

function toMatrix(values: Float64Array, d: number): Matrix {
  const m = new Matrix(d, d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) m.set(i, j, values[i * d + j]);
  }
  return m;
}

function withDiagonalOffset(cov: Float64Array, d: number, eps: number): Float64Array {
  const out = Float64Array.from(cov);
  for (let j = 0; j < d; j++) out[j * d + j] += eps;
  return out;
}

function checkCount(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new AekitError('BAD_ARGUMENT', `expected an integer >= ${min}, found ${value}`, {
      where: `featureStats(${name})`,
    });
  }
}

function checkStats(stats: FeatureStats, d: number, name: string): void {
  const where = `frechetDistance(${name})`;
  if (d < 1) {
    throw new AekitError('BAD_ARGUMENT', 'expected a non-empty mean vector, found length 0', {
      where: `${where}.mean`,
    });
  }
  if (stats.mean.length !== d) {
    throw new AekitError('BAD_ARGUMENT', `expected mean of length ${d} (as a.mean), found ${stats.mean.length}`, {
      where: `${where}.mean`,
    });
  }
  if (stats.cov.length !== d * d) {
    throw new AekitError('BAD_ARGUMENT', `expected cov of length d*d = ${d * d}, found ${stats.cov.length}`, {
      where: `${where}.cov`,
    });
  }
  for (const field of ['mean', 'cov'] as const) {
    const values = stats[field];
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        throw new AekitError('BAD_ARGUMENT', `expected finite values, found ${values[i]} at index ${i}`, {
          where: `${where}.${field}`,
        });
      }
    }
  }
  const problem = covarianceProblem(stats.cov, d);
  if (problem) throw new AekitError('BAD_ARGUMENT', `expected a covariance (symmetric, positive semi-definite), found one ${problem}`, { where: `${where}.cov` });
}
