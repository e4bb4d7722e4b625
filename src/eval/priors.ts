/**
 * The priors eval draws decoder inputs from (see {@link EVAL_PRIORS}), each a seeded sampler over
 * eval's `Rng` streams, so that the same seed draws the same samples.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { AekitError } from '../core/errors';
import type { Rng } from '../core/rng';
import type { CategoricalLayout } from '../artifact/metadata';

/**
 * The priors eval draws from: 'standard-normal' is the N(0, I) prior of VAEs and GANs;
 * 'fitted-gaussian' fits a Gaussian (mean, full covariance) to the codes of training images, the
 * usual way to sample a deterministic autoencoder; the categorical priors (gumbel-vae, joint-vae:
 * uniform one-hot groups, after N(0, I) for joint-vae) need the categorical layout, which artifacts
 * record (`aekit.categorical`) and older ones leave to the run's model config.
 */
export const EVAL_PRIORS = ['standard-normal', 'fitted-gaussian', 'uniform-categorical', 'gaussian-and-categorical'] as const;
/** See {@link EVAL_PRIORS}. */
export type PriorKind = (typeof EVAL_PRIORS)[number];

/** A prior to draw decoder inputs from. */
export interface LatentPrior {
  kind: PriorKind;
  /** Draw `count` codes, row-major count×latentSize, from the stream `rng`. */
  sample(count: number, rng: Rng): Float32Array;
}

/** N(0, I) for the first (size - V*K) values (none for 'uniform-categorical'), then V one-hot groups of K uniform classes. */
export function categoricalPrior(kind: PriorKind, layout: CategoricalLayout, size: number): LatentPrior {
  const gaussian = size - layout.variables * layout.classes;
  return {
    kind,
    sample(count, rng) {
      const out = new Float32Array(count * size);
      for (let r = 0; r < count; r++) {
        for (let j = 0; j < gaussian; j++) out[r * size + j] = rng.normal();
        for (let v = 0; v < layout.variables; v++) out[r * size + gaussian + v * layout.classes + rng.int(layout.classes)] = 1;
      }
      return out;
    },
  };
}

/**
 * N(mean, cov) fitted to codes (unbiased covariance), sampled as mean + V sqrt(Λ) eps from the
 * symmetric eigendecomposition cov = V Λ V^T. Unlike a Cholesky factor this also works when dead
 * code units make the covariance singular (their eigenvalues are clamped to 0).
 */
export function fittedGaussian(codes: Float32Array, count: number, size: number): LatentPrior {
  if (count < 2) throw new AekitError('BAD_ARGUMENT', `need at least 2 training codes to fit a Gaussian, found ${count}`, { where: 'prior' });
  const mean = new Float64Array(size);
  for (let r = 0; r < count; r++) for (let j = 0; j < size; j++) mean[j] += codes[r * size + j] / count;
  const cov = new Matrix(size, size);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < size; i++) {
      const di = codes[r * size + i] - mean[i];
      for (let j = 0; j <= i; j++) cov.set(i, j, cov.get(i, j) + di * (codes[r * size + j] - mean[j]));
    }
  }
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      const v = cov.get(i, j) / (count - 1);
      cov.set(i, j, v);
      cov.set(j, i, v);
    }
  }
  const eig = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const vectors = eig.eigenvectorMatrix;
  const roots = eig.realEigenvalues.map((l) => Math.sqrt(Math.max(l, 0)));
  // factor = V sqrt(Λ), row-major size×size.
  const factor = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let k = 0; k < size; k++) factor[i * size + k] = vectors.get(i, k) * roots[k];
  return {
    kind: 'fitted-gaussian',
    sample(n, rng) {
      const out = new Float32Array(n * size);
      const eps = new Float64Array(size);
      for (let r = 0; r < n; r++) {
        for (let k = 0; k < size; k++) eps[k] = rng.normal();
        for (let i = 0; i < size; i++) {
          let v = mean[i];
          for (let k = 0; k < size; k++) v += factor[i * size + k] * eps[k];
          out[r * size + i] = v;
        }
      }
      return out;
    },
  };
}
