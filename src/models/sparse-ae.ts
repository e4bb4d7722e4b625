/**
 * `sparse-ae`: autoencoder with a sparsity penalty on its code (extends `ae`; only the code's
 * activation and the penalty differ).
 *
 * - `kl` (default): weight * sum_j KL(rho || rhoHat_j), where rhoHat_j is the batch-mean
 *   activation of code unit j (Ng's sparse-autoencoder notes). The code units are sigmoids, so
 *   rhoHat is a probability. Only the code is bounded: putting sigmoids on every hidden layer, as
 *   one of the course reports did, saturates them and blocks the gradients.
 * - `l1`: weight * mean over images of sum_j |code_j| on a ReLU code, which gives exact zeros
 *   (the Keras blog's activity regulariser).
 */
import { z } from 'zod';
import { tf } from '../core/tfjs-backend';
import { bernoulliKl } from './losses';
import { Autoencoder, autoencoderConfigSchema, encoderTrunk } from './ae';
import { Initialisers, dense, imageInput } from './layers';
import type { FamilyDefinition, StepContext, TrainBatch } from './types';

/**
 * Default penalty weights, relative to the default per-image `sum` reconstruction loss (scale them
 * down by the pixel count with `reduction: 'mean'`). KL: Ng's beta = 3, rho = 0.05. L1: the Keras
 * blog's 1e-4 on a per-pixel mean loss, times ~1000 pixels per image.
 */
export const SPARSITY_DEFAULTS = { klWeight: 3, rho: 0.05, l1Weight: 0.1 } as const;

/** Architecture config of `sparse-ae` (defaults filled in by parsing). */
export const sparseAeConfigSchema = autoencoderConfigSchema.extend({
  family: z.literal('sparse-ae'),
  sparsity: z
    .discriminatedUnion('kind', [
      z.object({
        kind: z.literal('kl'),
        weight: z.number().min(0).default(SPARSITY_DEFAULTS.klWeight),
        /** Target mean activation of each (sigmoid) code unit. */
        rho: z.number().gt(0).lt(1).default(SPARSITY_DEFAULTS.rho),
      }),
      z.object({ kind: z.literal('l1'), weight: z.number().min(0).default(SPARSITY_DEFAULTS.l1Weight) }),
    ])
    .prefault({ kind: 'kl' }),
});
/** Resolved config of `sparse-ae`. */
export type SparseAeConfig = z.output<typeof sparseAeConfigSchema>;

/** Autoencoder with a KL or L1 sparsity penalty on a bounded (sigmoid) or ReLU code. */
export class SparseAutoencoder extends Autoencoder<SparseAeConfig> {
  protected override buildEncoder(init: Initialisers): tf.LayersModel {
    const image = imageInput(this.shape);
    const h = encoderTrunk(image, this.config, this.shape, init);
    const code = dense(h, this.config.latentSize, this.config.sparsity.kind === 'kl' ? 'sigmoid' : 'relu', init, 'enc_code');
    return tf.model({ inputs: image, outputs: code, name: 'encoder' });
  }

  protected override codePenalty(code: tf.Tensor2D): Record<string, tf.Scalar> {
    const sparsity = this.config.sparsity;
    const penalty =
      sparsity.kind === 'kl'
        ? bernoulliKl(sparsity.rho, tf.mean(code, 0) as tf.Tensor1D)
        : (tf.mean(tf.sum(tf.abs(code), 1)) as tf.Scalar);
    return { sparsity: tf.mul(sparsity.weight, penalty) as tf.Scalar };
  }

  /** Adds the weighted penalty and the mean code activation (compare with rho) to `ae`'s metrics. */
  override evaluateBatch(batch: TrainBatch, ctx: StepContext): Record<string, tf.Scalar> {
    const code = this.encode(batch.x);
    return { ...super.evaluateBatch(batch, ctx), ...this.codePenalty(code), meanActivation: tf.mean(code) as tf.Scalar };
  }
}

/** Registry entry of `sparse-ae`. */
export const sparseAeFamily: FamilyDefinition<SparseAeConfig> = {
  name: 'sparse-ae',
  description: 'Sparse autoencoder: KL sparsity towards a target mean activation rho of a sigmoid code, or L1 on a ReLU code.',
  configSchema: sparseAeConfigSchema,
  tinyConfig: { family: 'sparse-ae', convChannels: [4, 8], latentSize: 3, hiddenSizes: [16] },
  exportParts: ['encoder', 'decoder'],
  evaluation: { metrics: ['reconstruction', 'fid', 'latent-classifiers'], prior: 'fitted-gaussian' },
  build: (config, shape, seed) => new SparseAutoencoder(config, shape, seed),
};
