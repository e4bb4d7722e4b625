/**
 * Likelihood bounds of a VAE on held-out images: the ELBO split into its reconstruction and KL
 * terms, and the importance-weighted bound of Burda et al. 2016 (IWAE),
 * log p(x) >= E[log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x)], z_k ~ q(z|x).
 * All sums in float64, in nats per image. The decoder is a callback, so this file has no models.
 */
import { AekitError } from '../../core/errors';
import { Rng } from '../../core/rng';
import { BCE_EPSILON } from '../../models/losses';

/** Default number of importance samples K (Burda et al. report K = 5000; 64 is a common cheaper setting). */
export const DEFAULT_IWAE_SAMPLES = 64;

/**
 * Scale of the Gaussian likelihood used for decoders that are not Bernoulli (e.g. tanh outputs):
 * a unit-variance Gaussian, so -log p(x|z) = squared error / 2 + const, the likelihood an MSE-trained
 * decoder implies up to its (unrecorded) noise scale.
 */
export const GAUSSIAN_LIKELIHOOD_SIGMA = 1;

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * The reconstruction likelihood p(x|z): 'bernoulli' (sigmoid outputs in [0, 1], the likelihood of
 * a BCE-trained decoder; probabilities clipped to [BCE_EPSILON, 1 - BCE_EPSILON] as in training) or
 * 'gaussian' with a fixed `sigma`.
 */
export type ReconstructionLikelihood = { kind: 'bernoulli' } | { kind: 'gaussian'; sigma: number };

/**
 * The likelihood an artifact's outputs imply: Bernoulli for the 'unit' range with sigmoid outputs,
 * else a Gaussian with {@link GAUSSIAN_LIKELIHOOD_SIGMA}.
 */
export function likelihoodFor(metadata: { valueRange: string; outputActivation: string }): ReconstructionLikelihood {
  return metadata.valueRange === 'unit' && metadata.outputActivation === 'sigmoid' ? { kind: 'bernoulli' } : { kind: 'gaussian', sigma: GAUSSIAN_LIKELIHOOD_SIGMA };
}

/** Human-readable name of a likelihood, for reports. */
export function describeLikelihood(likelihood: ReconstructionLikelihood): string {
  return likelihood.kind === 'bernoulli' ? 'Bernoulli (sigmoid outputs, BCE)' : `Gaussian (sigma = ${likelihood.sigma})`;
}

/** log p(x|z) of one image `x` given the decoder output `out` (same layout and range), in float64. */
export function logLikelihood(x: Float32Array, out: Float32Array, likelihood: ReconstructionLikelihood): number {
  let sum = 0;
  if (likelihood.kind === 'bernoulli') {
    for (let i = 0; i < x.length; i++) {
      const p = Math.min(Math.max(out[i], BCE_EPSILON), 1 - BCE_EPSILON);
      sum += x[i] * Math.log(p) + (1 - x[i]) * Math.log(1 - p);
    }
    return sum;
  }
  const variance = likelihood.sigma * likelihood.sigma;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - out[i];
    sum += (d * d) / variance;
  }
  return -0.5 * (sum + x.length * (LOG_2PI + Math.log(variance)));
}

/** KL(N(mu, exp(logvar)) || N(0, I)) of one code, analytically. */
export function gaussianKl(mu: Float32Array, logvar: Float32Array): number {
  let sum = 0;
  for (let j = 0; j < mu.length; j++) sum += 1 + logvar[j] - mu[j] * mu[j] - Math.exp(logvar[j]);
  return -0.5 * sum;
}

/** log((1/K) sum_k exp(w_k)), computed stably. */
export function logMeanExp(w: ArrayLike<number>): number {
  let max = -Infinity;
  for (let k = 0; k < w.length; k++) max = Math.max(max, w[k]);
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let k = 0; k < w.length; k++) sum += Math.exp(w[k] - max);
  return max + Math.log(sum / w.length);
}

/** Inputs of {@link estimateElbo}. */
export interface ElboInput {
  /** Images in the decoder's output layout and range, count×imageSize. */
  images: Float32Array;
  count: number;
  /** Posterior means and log-variances, count×latentSize. */
  mu: Float32Array;
  logvar: Float32Array;
  latentSize: number;
  /**
   * Decode codes (rows×latentSize) to images (rows×imageSize); `imageOf[r]` is the image that
   * row r was drawn for (conditional decoders feed its label).
   */
  decode(z: Float32Array, imageOf: Int32Array): Promise<Float32Array>;
  likelihood: ReconstructionLikelihood;
  /** Importance samples per image, K (default {@link DEFAULT_IWAE_SAMPLES}). */
  samples?: number;
  seed: number;
  /** Rows per decode call (default 1024); images are grouped so that K samples stay together. */
  rowsPerCall?: number;
  /** Called after each decode call with the images done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** Means over the images of {@link estimateElbo}, in nats per image. */
export interface ElboEstimate {
  count: number;
  samples: number;
  /** E_q[log p(x|z)], averaged over the K samples: the reconstruction term (<= 0 for Bernoulli). */
  reconstruction: number;
  /** Analytic KL(q(z|x) || N(0, I)). */
  kl: number;
  /** reconstruction - kl: the ELBO (training's `negElbo` with the sign flipped, at beta = 1). */
  elbo: number;
  /** The IWAE bound with K samples; >= the sample ELBO with the same draws (Jensen). */
  iwae: number;
}

/**
 * Estimate the ELBO and the IWAE bound on `count` images with K posterior samples each, drawn
 * from the seeded stream (seed, 'elbo'): the same seed gives the same numbers whatever the batching.
 *
 * @throws AekitError BAD_ARGUMENT for inconsistent sizes; EVAL_FAILED when a bound is not finite.
 */
export async function estimateElbo(input: ElboInput): Promise<ElboEstimate> {
  const { count, latentSize: size } = input;
  const k = input.samples ?? DEFAULT_IWAE_SAMPLES;
  if (!Number.isInteger(k) || k < 1) throw new AekitError('BAD_ARGUMENT', `expected K >= 1 importance samples, found ${k}`, { where: 'estimateElbo(samples)' });
  if (count < 1 || input.mu.length < count * size || input.logvar.length < count * size || input.images.length % count !== 0) {
    throw new AekitError('BAD_ARGUMENT', `expected ${count} images and ${count}x${size} mu/logvar values`, { where: 'estimateElbo' });
  }
  const imageSize = input.images.length / count;
  const imagesPerCall = Math.max(1, Math.floor((input.rowsPerCall ?? 1024) / k));
  const rng = Rng.derive(input.seed, 'elbo');
  let sumRec = 0;
  let sumKl = 0;
  let sumIwae = 0;
  const weights = new Float64Array(k);
  for (let first = 0; first < count; first += imagesPerCall) {
    const batch = Math.min(imagesPerCall, count - first);
    const z = new Float32Array(batch * k * size);
    const eps = new Float32Array(batch * k * size);
    const imageOf = new Int32Array(batch * k);
    for (let i = 0; i < batch; i++) {
      const at = (first + i) * size;
      for (let s = 0; s < k; s++) {
        const row = i * k + s;
        imageOf[row] = first + i;
        for (let j = 0; j < size; j++) {
          const e = rng.normal();
          eps[row * size + j] = e;
          z[row * size + j] = input.mu[at + j] + Math.exp(0.5 * input.logvar[at + j]) * e;
        }
      }
    }
    const decoded = await input.decode(z, imageOf);
    if (decoded.length !== batch * k * imageSize) {
      throw new AekitError('BAD_ARGUMENT', `decoder returned ${decoded.length} values for ${batch * k} codes; expected ${batch * k * imageSize}`, { where: 'estimateElbo(decode)' });
    }
    for (let i = 0; i < batch; i++) {
      const image = first + i;
      const x = input.images.subarray(image * imageSize, (image + 1) * imageSize);
      const mu = input.mu.subarray(image * size, (image + 1) * size);
      const logvar = input.logvar.subarray(image * size, (image + 1) * size);
      let logvarSum = 0;
      for (let j = 0; j < size; j++) logvarSum += logvar[j];
      let rec = 0;
      for (let s = 0; s < k; s++) {
        const row = i * k + s;
        const logPx = logLikelihood(x, decoded.subarray(row * imageSize, (row + 1) * imageSize), input.likelihood);
        // log p(z) - log q(z|x) = -0.5 sum z^2 + 0.5 sum (eps^2 + logvar); the log(2 pi) terms cancel.
        let zz = 0;
        let ee = 0;
        for (let j = 0; j < size; j++) {
          zz += z[row * size + j] ** 2;
          ee += eps[row * size + j] ** 2;
        }
        weights[s] = logPx - 0.5 * zz + 0.5 * (ee + logvarSum);
        rec += logPx;
      }
      sumRec += rec / k;
      sumKl += gaussianKl(mu, logvar);
      sumIwae += logMeanExp(weights);
    }
    input.onProgress?.(first + batch, count);
  }
  const estimate = { count, samples: k, reconstruction: sumRec / count, kl: sumKl / count, elbo: (sumRec - sumKl) / count, iwae: sumIwae / count };
  for (const [name, value] of Object.entries(estimate)) {
    if (!Number.isFinite(value)) throw new AekitError('EVAL_FAILED', `the ${name} estimate is not finite (${value})`, { where: 'estimateElbo' });
  }
  return estimate;
}
