/**
 * Distributions fitted to latent codes, to sample new codes from (the "fit a Gaussian to the
 * validation latents and sample" recipe of the faces study): one Gaussian, or a Gaussian mixture
 * fitted by expectation-maximisation, each with a full or diagonal covariance.
 *
 * EM is written here because npm has no maintained Gaussian-mixture package (no "mixture" or
 * "gmm" package in the registry list; the "gaussian" ones are single distributions or splat
 * renderers, and a k-means package would only seed EM). It follows scikit-learn's
 * GaussianMixture: k-means++ seeding, responsibilities from the nearest seed, a covariance
 * regulariser added to the diagonal, and a stop when the mean log-likelihood gains less than the
 * tolerance. Linear algebra (Cholesky) is ml-matrix's.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { AekitError } from '../../core/errors';
import { Rng } from '../../core/rng';

/** Added to covariance diagonals so they stay positive definite (scikit-learn's `reg_covar` default). */
export const COVARIANCE_REGULARISER = 1e-6;
/** EM stops when the mean log-likelihood per code improves by less than this (scikit-learn's `tol`). */
export const EM_TOLERANCE = 1e-3;
/** Most EM iterations (scikit-learn's `max_iter`). */
export const EM_MAX_ITERATIONS = 100;

const LOG_2PI = Math.log(2 * Math.PI);

/** Covariance structure of the fitted Gaussians. */
export type CovarianceType = 'full' | 'diagonal';

/** One Gaussian of a fitted distribution. */
export interface GaussianComponent {
  weight: number;
  mean: number[];
  /** Full covariance (covariance 'full'). */
  covariance?: number[][];
  /** Per-dimension variances (covariance 'diagonal'). */
  variance?: number[];
}

/** A distribution over codes, as saved next to the encoder (`<encoder>.latent-<kind>.json`). */
export interface LatentDistribution {
  format: 'aekit-latent-distribution';
  version: 1;
  kind: 'gaussian' | 'gmm';
  covarianceType: CovarianceType;
  latentSize: number;
  components: GaussianComponent[];
  fit: {
    /** Codes it was fitted to. */
    count: number;
    /** Mean log-likelihood per code under the fitted distribution. */
    logLikelihood: number;
    regulariser: number;
    /** EM only: mean log-likelihood after each E-step (non-decreasing). */
    history?: number[];
    iterations?: number;
    converged?: boolean;
    seed?: number;
  };
  /** Where the codes came from (encoder file, run, dataset). */
  source?: Record<string, string | number>;
}

/** Codes as n rows of d values. */
interface Codes {
  data: Float32Array;
  n: number;
  d: number;
}

function checkCodes(data: Float32Array, d: number, minimum: number): Codes {
  if (!Number.isInteger(d) || d < 1) throw new AekitError('BAD_ARGUMENT', `latent size must be a positive whole number, got ${d}`);
  if (data.length % d !== 0) throw new AekitError('BAD_ARGUMENT', `${data.length} values are not whole codes of size ${d}`);
  const n = data.length / d;
  if (n < minimum) throw new AekitError('BAD_ARGUMENT', `need at least ${minimum} codes to fit, got ${n}`);
  return { data, n, d };
}

/** Weighted mean and covariance (full or diagonal) of the codes, weights summing to `total`. */
function moments(codes: Codes, weights: Float64Array | undefined, total: number, type: CovarianceType, regulariser: number): Omit<GaussianComponent, 'weight'> {
  const { data, n, d } = codes;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    for (let j = 0; j < d; j++) mean[j] += w * data[i * d + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= total;
  const diff = new Float64Array(d);
  if (type === 'diagonal') {
    const variance = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const w = weights ? weights[i] : 1;
      for (let j = 0; j < d; j++) {
        const x = data[i * d + j] - mean[j];
        variance[j] += w * x * x;
      }
    }
    return { mean: Array.from(mean), variance: Array.from(variance, (v) => v / total + regulariser) };
  }
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    if (w === 0) continue;
    for (let j = 0; j < d; j++) diff[j] = data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const wa = w * diff[a];
      for (let b = 0; b <= a; b++) cov[a * d + b] += wa * diff[b];
    }
  }
  const covariance: number[][] = [];
  for (let a = 0; a < d; a++) {
    covariance.push(Array.from({ length: d }, (_, b) => (a >= b ? cov[a * d + b] : cov[b * d + a]) / total + (a === b ? regulariser : 0)));
  }
  return { mean: Array.from(mean), covariance };
}

/** A component prepared for density evaluation: mean, Cholesky factor (row-major) and log-determinant. */
interface Prepared {
  logWeight: number;
  mean: Float64Array;
  /** Lower Cholesky factor L (full) or standard deviations (diagonal). */
  factor: Float64Array;
  diagonal: boolean;
  logDet: number;
}

function prepare(component: GaussianComponent, d: number, where: string): Prepared {
  const mean = Float64Array.from(component.mean);
  if (component.variance) {
    const sd = Float64Array.from(component.variance, Math.sqrt);
    return { logWeight: Math.log(component.weight), mean, factor: sd, diagonal: true, logDet: component.variance.reduce((s, v) => s + Math.log(v), 0) };
  }
  const chol = new CholeskyDecomposition(new Matrix(component.covariance ?? []));
  if (!chol.isPositiveDefinite()) throw new AekitError('BAD_DATA', 'a covariance matrix is not positive definite', { where });
  const L = chol.lowerTriangularMatrix;
  const factor = new Float64Array(d * d);
  let logDet = 0;
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) factor[a * d + b] = L.get(a, b);
    logDet += 2 * Math.log(factor[a * d + a]);
  }
  return { logWeight: Math.log(component.weight), mean, factor, diagonal: false, logDet };
}

/** log(weight) + log N(x | mean, covariance) of code i, for every component, into `out`. */
function componentLogDensities(codes: Codes, i: number, prepared: readonly Prepared[], out: Float64Array, scratch: Float64Array): void {
  const { data, d } = codes;
  for (let k = 0; k < prepared.length; k++) {
    const p = prepared[k];
    let mahalanobis = 0;
    if (p.diagonal) {
      for (let j = 0; j < d; j++) {
        const z = (data[i * d + j] - p.mean[j]) / p.factor[j];
        mahalanobis += z * z;
      }
    } else {
      // Solve L y = x - mean by forward substitution; |y|^2 is the Mahalanobis distance.
      for (let a = 0; a < d; a++) {
        let s = data[i * d + a] - p.mean[a];
        for (let b = 0; b < a; b++) s -= p.factor[a * d + b] * scratch[b];
        scratch[a] = s / p.factor[a * d + a];
        mahalanobis += scratch[a] * scratch[a];
      }
    }
    out[k] = p.logWeight - 0.5 * (d * LOG_2PI + p.logDet + mahalanobis);
  }
}

function logSumExp(values: Float64Array): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  if (max === -Infinity) return max;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/**
 * E-step: mean log-likelihood per code and, when `resp` is given, each code's responsibilities
 * (n x k, row-major).
 */
function expectation(codes: Codes, prepared: readonly Prepared[], resp?: Float64Array): number {
  const k = prepared.length;
  const logp = new Float64Array(k);
  const scratch = new Float64Array(codes.d);
  let total = 0;
  for (let i = 0; i < codes.n; i++) {
    componentLogDensities(codes, i, prepared, logp, scratch);
    const lse = logSumExp(logp);
    total += lse;
    if (resp) for (let c = 0; c < k; c++) resp[i * k + c] = Math.exp(logp[c] - lse);
  }
  return total / codes.n;
}

function prepareAll(components: readonly GaussianComponent[], d: number, where: string): Prepared[] {
  return components.map((c) => prepare(c, d, where));
}

/** Mean log-likelihood per code of `codes` (n x latentSize) under a fitted distribution. */
export function logLikelihood(distribution: LatentDistribution, codes: Float32Array): number {
  const checked = checkCodes(codes, distribution.latentSize, 1);
  return expectation(checked, prepareAll(distribution.components, checked.d, 'distribution'));
}

/** Options of {@link fitGaussian}. */
export interface GaussianFitOptions {
  covariance?: CovarianceType;
  regulariser?: number;
}

/** Fit one Gaussian to codes (n x latentSize): the codes' mean and (maximum-likelihood) covariance. */
export function fitGaussian(codes: Float32Array, latentSize: number, options: GaussianFitOptions = {}): LatentDistribution {
  const checked = checkCodes(codes, latentSize, 2);
  const type = options.covariance ?? 'full';
  const regulariser = options.regulariser ?? COVARIANCE_REGULARISER;
  const component: GaussianComponent = { weight: 1, ...moments(checked, undefined, checked.n, type, regulariser) };
  return {
    format: 'aekit-latent-distribution',
    version: 1,
    kind: 'gaussian',
    covarianceType: type,
    latentSize,
    components: [component],
    fit: { count: checked.n, logLikelihood: expectation(checked, prepareAll([component], latentSize, 'fit')), regulariser },
  };
}

/** Options of {@link fitGmm}. */
export interface GmmFitOptions extends GaussianFitOptions {
  components: number;
  maxIterations?: number;
  tolerance?: number;
  seed?: number;
}

/** k-means++ seeding: each next centre is a code drawn with probability proportional to its squared distance to the nearest centre so far. */
function kmeansPlusPlus(codes: Codes, k: number, rng: Rng): Float64Array[] {
  const { data, n, d } = codes;
  const row = (i: number) => Float64Array.from(data.subarray(i * d, (i + 1) * d));
  const centres = [row(rng.int(n))];
  const nearest = new Float64Array(n).fill(Infinity);
  while (centres.length < k) {
    const last = centres[centres.length - 1];
    let total = 0;
    for (let i = 0; i < n; i++) {
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (data[i * d + j] - last[j]) ** 2;
      nearest[i] = Math.min(nearest[i], dist);
      total += nearest[i];
    }
    let target = rng.next() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= nearest[i];
      if (target < 0) {
        pick = i;
        break;
      }
    }
    centres.push(row(pick));
  }
  return centres;
}

/** M-step: weights, means and covariances from responsibilities (n x k). */
function maximisation(codes: Codes, resp: Float64Array, k: number, type: CovarianceType, regulariser: number): GaussianComponent[] {
  const column = new Float64Array(codes.n);
  return Array.from({ length: k }, (_, c) => {
    let nk = 0;
    for (let i = 0; i < codes.n; i++) {
      column[i] = resp[i * k + c];
      nk += column[i];
    }
    // A component that lost all its codes keeps a tiny weight (scikit-learn adds 10 * eps too).
    nk += 10 * Number.EPSILON;
    return { weight: nk / codes.n, ...moments(codes, column, nk, type, regulariser) };
  });
}

/**
 * Fit a Gaussian mixture with `components` Gaussians to codes (n x latentSize) by EM, seeded:
 * the same codes and seed give the same mixture. `fit.history` holds the mean log-likelihood
 * after every E-step, which EM never decreases.
 */
export function fitGmm(codes: Float32Array, latentSize: number, options: GmmFitOptions): LatentDistribution {
  const k = options.components;
  if (!Number.isInteger(k) || k < 1) throw new AekitError('BAD_ARGUMENT', `components must be a whole number of at least 1, got ${k}`);
  const checked = checkCodes(codes, latentSize, Math.max(2, k));
  const type = options.covariance ?? 'full';
  const regulariser = options.regulariser ?? COVARIANCE_REGULARISER;
  const maxIterations = options.maxIterations ?? EM_MAX_ITERATIONS;
  const tolerance = options.tolerance ?? EM_TOLERANCE;
  const seed = options.seed ?? 0;
  const { data, n, d } = checked;

  // Responsibilities of the initial step: each code belongs to its nearest k-means++ centre.
  const centres = kmeansPlusPlus(checked, k, Rng.derive(seed, 'gmm-init'));
  const resp = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestDist = Infinity;
    centres.forEach((centre, c) => {
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (data[i * d + j] - centre[j]) ** 2;
      if (dist < bestDist) [best, bestDist] = [c, dist];
    });
    resp[i * k + best] = 1;
  }
  let components = maximisation(checked, resp, k, type, regulariser);
  const history: number[] = [];
  let converged = false;
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations += 1;
    const ll = expectation(checked, prepareAll(components, d, 'EM'), resp);
    history.push(ll);
    if (history.length > 1 && Math.abs(ll - history[history.length - 2]) < tolerance) {
      converged = true;
      break;
    }
    components = maximisation(checked, resp, k, type, regulariser);
  }
  return {
    format: 'aekit-latent-distribution',
    version: 1,
    kind: 'gmm',
    covarianceType: type,
    latentSize,
    components,
    fit: {
      count: n,
      // Without convergence the last step was an M-step, whose components the history has not scored yet.
      logLikelihood: converged ? history[history.length - 1] : expectation(checked, prepareAll(components, d, 'EM')),
      regulariser,
      history,
      iterations,
      converged,
      seed,
    },
  };
}

/** Draw `count` codes (count x latentSize), seeded: pick a component by weight, then mean + L * N(0, I). */
export function sampleCodes(distribution: LatentDistribution, count: number, seed: number): Float32Array {
  const d = distribution.latentSize;
  const prepared = prepareAll(distribution.components, d, 'distribution');
  const rng = Rng.derive(seed, 'latent-sample');
  const cumulative: number[] = [];
  distribution.components.reduce((s, c) => (cumulative.push(s + c.weight), s + c.weight), 0);
  const total = cumulative[cumulative.length - 1];
  const out = new Float32Array(count * d);
  const eps = new Float64Array(d);
  for (let i = 0; i < count; i++) {
    const u = rng.next() * total;
    const p = prepared[Math.max(0, cumulative.findIndex((c) => u < c))];
    for (let j = 0; j < d; j++) eps[j] = rng.normal();
    for (let a = 0; a < d; a++) {
      let s = 0;
      if (p.diagonal) s = p.factor[a] * eps[a];
      else for (let b = 0; b <= a; b++) s += p.factor[a * d + b] * eps[b];
      out[i * d + a] = p.mean[a] + s;
    }
  }
  return out;
}

/** A standard normal N(0, I) over codes: the prior of the VAE families, to sample without fitting. */
export function standardNormal(latentSize: number): LatentDistribution {
  return {
    format: 'aekit-latent-distribution',
    version: 1,
    kind: 'gaussian',
    covarianceType: 'diagonal',
    latentSize,
    components: [{ weight: 1, mean: new Array<number>(latentSize).fill(0), variance: new Array<number>(latentSize).fill(1) }],
    fit: { count: 0, logLikelihood: Number.NaN, regulariser: 0 },
  };
}

/** Check a parsed JSON file is a latent distribution of the expected size. */
export function parseDistribution(value: unknown, where: string, latentSize?: number): LatentDistribution {
  const dist = value as Partial<LatentDistribution> | null;
  if (dist?.format !== 'aekit-latent-distribution' || !Array.isArray(dist.components) || typeof dist.latentSize !== 'number') {
    throw new AekitError('BAD_DATA', "not an aekit latent distribution (expected format 'aekit-latent-distribution'; write one with `aekit latent fit`)", { where });
  }
  if (latentSize !== undefined && dist.latentSize !== latentSize) {
    throw new AekitError('BAD_DATA', `fitted to codes of size ${dist.latentSize}, the encoder's are ${latentSize}`, { where });
  }
  for (const [i, c] of dist.components.entries()) {
    const cov = c.covariance ?? (c.variance ? [c.variance] : undefined);
    if (c.mean?.length !== dist.latentSize || !cov) throw new AekitError('BAD_DATA', `component ${i} has no mean of size ${dist.latentSize} or no covariance`, { where });
  }
  return dist as LatentDistribution;
}
