/**
 * `beta-vae`: VAE whose KL weight, KL warm-up and free bits are part of the model (extends `vae`;
 * only the loss differs). Loss = reconstruction + beta_t * sum_d max(lambda, KL_d), where
 * beta_t = beta * min(1, step / warmupSteps) and KL_d is dimension d's KL averaged over the batch.
 *
 * `train.beta` and `train.betaWarmupEpochs` are ignored by this family: its own fields win, so a
 * recipe's beta travels with the model (and its checkpoints).
 *
 * KL vanishing (posterior collapse: every KL_d -> 0 and the decoder ignores z) has two documented
 * cures here: warm-up (start with beta = 0 so the encoder learns to carry information first;
 * Bowman et al. 2016) and free bits (Kingma et al. 2016: a dimension's KL below lambda nats costs
 * nothing, so the optimiser has no reason to push it to zero). `activeUnits` counts dimensions
 * whose posterior mean varies over the batch (Var(mu_d) > 0.01, Burda et al. 2016).
 */
import { z } from 'zod';
import { tf } from '../core/tfjs-backend';
import { gaussianKlPerDimension, reconstructionLoss } from './losses';
import { autoencoderConfigSchema } from './ae';
import { VariationalAutoencoder } from './vae';
import type { FamilyDefinition, LossTerms, StepContext, TrainBatch } from './types';

/** Var(mu_d) over the data above which a latent dimension counts as active (Burda et al. 2016). */
export const ACTIVE_UNIT_THRESHOLD = 0.01;

/** Architecture config of `beta-vae` (defaults filled in by parsing). */
export const betaVaeConfigSchema = autoencoderConfigSchema.extend({
  family: z.literal('beta-vae'),
  /** KL weight (Higgins et al. 2017 use beta > 1 for disentangling; < 1 favours reconstruction). */
  beta: z.number().min(0).default(4),
  /** Linear warm-up of beta from 0 over this many training steps (0 = none). */
  warmupSteps: z.number().int().min(0).default(0),
  /** Free bits: per-dimension KL floor lambda in nats (0 = off; Kingma et al. 2016 use 0.1 to 0.5). */
  freeBits: z.number().min(0).default(0),
});
/** Resolved config of `beta-vae`. */
export type BetaVaeConfig = z.output<typeof betaVaeConfigSchema>;

/** Number of latent dimensions whose posterior mean varies over the batch. */
export function activeUnits(mu: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.greater(tf.moments(mu, 0).variance, ACTIVE_UNIT_THRESHOLD), 'float32')) as tf.Scalar);
}

/** VAE with model-level beta, KL warm-up and free bits. */
export class BetaVae extends VariationalAutoencoder<BetaVaeConfig> {
  /** beta after warm-up at a training step. */
  betaAt(step: number): number {
    const { beta, warmupSteps } = this.config;
    return warmupSteps > 0 ? beta * Math.min(1, step / warmupSteps) : beta;
  }

  protected override loss(batch: TrainBatch, ctx: StepContext): LossTerms {
    const [mu, logvar] = this.posterior(batch, true);
    const z = this.reparameterise(mu, logvar, ctx.seed);
    const rec = reconstructionLoss(this.config.reconstruction, batch.x, this.reconstructFrom(z, batch, true), this.config.reduction);
    const klPerDim = gaussianKlPerDimension(mu, logvar);
    const kl = tf.sum(klPerDim) as tf.Scalar;
    const penalised = this.config.freeBits > 0 ? (tf.sum(tf.maximum(klPerDim, this.config.freeBits)) as tf.Scalar) : kl;
    const beta = this.betaAt(ctx.step);
    const total = tf.add(rec, tf.mul(beta, penalised)) as tf.Scalar;
    return { total, terms: { total, reconstruction: rec, kl, beta: tf.scalar(beta), activeUnits: activeUnits(mu) } };
  }

  override evaluateBatch(batch: TrainBatch, ctx: StepContext): Record<string, tf.Scalar> {
    const [mu] = this.posterior(batch, false);
    return { ...super.evaluateBatch(batch, ctx), activeUnits: activeUnits(mu) };
  }
}

/** Registry entry of `beta-vae`. */
export const betaVaeFamily: FamilyDefinition<BetaVaeConfig> = {
  name: 'beta-vae',
  description: 'beta-VAE: model-level KL weight, KL warm-up and free bits (cures for KL vanishing); logs active units.',
  configSchema: betaVaeConfigSchema,
  tinyConfig: { family: 'beta-vae', convChannels: [4, 8], latentSize: 3, hiddenSizes: [16], warmupSteps: 10, freeBits: 0.1 },
  exportParts: ['encoder', 'decoder'],
  evaluation: { metrics: ['reconstruction', 'elbo', 'fid', 'latent-classifiers'], prior: 'standard-normal' },
  build: (config, shape, seed) => new BetaVae(config, shape, seed),
};
