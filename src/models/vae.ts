/**
 * `vae`: variational autoencoder (Kingma & Welling), conv (default) or MLP.
 *
 * encoder: image -> [mu, logvar];  decoder: z -> image.  Loss = reconstruction + beta * KL, where
 * beta (and its warm-up) comes from the training config. With `reduction: 'sum'` and BCE the loss
 * at beta = 1 is the negative ELBO per image, as in pytorch/examples.
 */
import { z } from 'zod';
import { tf } from '../core/tfjs-backend';
import { gaussianKl, reconstructionLoss } from './losses';
import { Autoencoder, autoencoderConfigSchema, encoderTrunk } from './ae';
import { Initialisers, dense, imageInput } from './layers';
import type { FamilyDefinition, LossTerms, PartIoNames, PartName, StepContext, TrainBatch } from './types';

export const vaeConfigSchema = autoencoderConfigSchema.extend({ family: z.literal('vae') });
export type VaeConfig = z.output<typeof vaeConfigSchema>;

/** Config shape shared by the VAE family and its children. */
export type VariationalConfig = z.output<typeof autoencoderConfigSchema>;

/** Variational autoencoder; `cvae` extends it with a label input. */
export class VariationalAutoencoder<C extends VariationalConfig = VaeConfig> extends Autoencoder<C> {
  override readonly ioNames: Partial<Record<PartName, PartIoNames>> = {
    encoder: { inputs: ['image'], outputs: ['mu', 'logvar'] },
    decoder: { inputs: ['z'], outputs: ['image'] },
  };

  protected override buildEncoder(init: Initialisers): tf.LayersModel {
    const image = imageInput(this.shape);
    const h = encoderTrunk(image, this.config, this.shape, init);
    const mu = dense(h, this.config.latentSize, 'linear', init, 'mu');
    const logvar = dense(h, this.config.latentSize, 'linear', init, 'logvar');
    return tf.model({ inputs: image, outputs: [mu, logvar], name: 'encoder' });
  }

  /** [mu, logvar] of a batch. */
  protected posterior(batch: TrainBatch, training: boolean): [tf.Tensor2D, tf.Tensor2D] {
    return this.parts.encoder.apply(batch.x, { training }) as [tf.Tensor2D, tf.Tensor2D];
  }

  /** Images for codes of a batch. */
  protected reconstructFrom(z: tf.Tensor2D, _batch: TrainBatch, training: boolean): tf.Tensor4D {
    return this.parts.decoder.apply(z, { training }) as tf.Tensor4D;
  }

  /** z = mu + sigma * eps with eps seeded by the step, so a resumed run replays the same noise. */
  protected reparameterise(mu: tf.Tensor2D, logvar: tf.Tensor2D, seed: number): tf.Tensor2D {
    const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', seed);
    return tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)) as tf.Tensor2D;
  }

  protected override loss(batch: TrainBatch, ctx: StepContext): LossTerms {
    const [mu, logvar] = this.posterior(batch, true);
    const z = this.reparameterise(mu, logvar, ctx.seed);
    const reconstruction = this.reconstructFrom(z, batch, true);
    const rec = reconstructionLoss(this.config.reconstruction, batch.x, reconstruction, this.config.reduction);
    const kl = gaussianKl(mu, logvar);
    const total = tf.add(rec, tf.mul(ctx.beta, kl)) as tf.Scalar;
    return { total, terms: { total, reconstruction: rec, kl } };
  }

  override encode(x: tf.Tensor4D, oneHot?: tf.Tensor2D): tf.Tensor2D {
    const [mu] = this.posterior({ x, oneHot: oneHot ?? tf.zeros([x.shape[0], 0]), labels: tf.zeros([x.shape[0]]), size: x.shape[0] }, false);
    return mu;
  }

  samplePrior(n: number, seed: number): tf.Tensor2D {
    return tf.randomNormal([n, this.config.latentSize], 0, 1, 'float32', seed);
  }

  /** Reconstruction, KL and the negative ELBO (beta = 1) on held-out data, with a sampled z. */
  override evaluateBatch(batch: TrainBatch, ctx: StepContext): Record<string, tf.Scalar> {
    const [mu, logvar] = this.posterior(batch, false);
    const z = this.reparameterise(mu, logvar, ctx.seed);
    const rec = reconstructionLoss(this.config.reconstruction, batch.x, this.reconstructFrom(z, batch, false), this.config.reduction);
    const kl = gaussianKl(mu, logvar);
    return { reconstruction: rec, kl, negElbo: tf.add(rec, kl) as tf.Scalar };
  }
}

export const vaeFamily: FamilyDefinition<VaeConfig> = {
  name: 'vae',
  description: 'Variational autoencoder (conv or MLP), Gaussian prior, reconstruction + beta * KL.',
  configSchema: vaeConfigSchema,
  tinyConfig: { family: 'vae', convChannels: [4, 8], latentSize: 3, hiddenSizes: [16] },
  exportParts: ['encoder', 'decoder'],
  evaluation: { metrics: ['reconstruction', 'elbo', 'fid', 'latent-classifiers'], prior: 'standard-normal' },
  build: (config, shape, seed) => new VariationalAutoencoder(config, shape, seed),
};
