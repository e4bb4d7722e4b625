/**
 * `joint-vae`: VAE with a continuous and a discrete latent side by side (Dupont 2018, JointVAE),
 * extending `vae` with the categorical head and sampling of `gumbel-vae`.
 *
 * encoder: image -> mu, logvar [latentSize] and logits [N*K];
 * decoder: z = [continuous (latentSize) | categorical one-hot or relaxed (N*K)] -> image.
 * Loss = reconstruction + beta * (Gaussian KL + categorical KL to the uniform prior), beta from the
 * training config. Temperature schedule and `hard` as in `gumbel-vae`; the default is Dupont's
 * fixed temperature 0.67 and one 10-way variable (his MNIST setting).
 */
import { z } from 'zod';
import { Rng } from '../core/rng';
import { tf } from '../core/tfjs-backend';
import { categoricalKlToUniform, gaussianKl, reconstructionLoss } from './losses';
import { autoencoderConfigSchema, decoderBody, encoderTrunk } from './ae';
import { argmaxOneHot, categoricalSchema, gumbelMaxOneHot, gumbelSoftmax, temperatureAt, temperatureSchema, uniformOneHot } from './gumbel-vae';
import { Initialisers, dense, imageInput } from './layers';
import { VariationalAutoencoder } from './vae';
import type { FamilyDefinition, LossTerms, PartIoNames, PartName, StepContext, TrainBatch } from './types';

/** Architecture config of `joint-vae` (defaults filled in by parsing). */
export const jointVaeConfigSchema = autoencoderConfigSchema.extend({
  family: z.literal('joint-vae'),
  /** Size of the continuous (Gaussian) part of the code; the decoder takes latentSize + N*K. */
  latentSize: z.number().int().positive().default(10),
  categorical: categoricalSchema.prefault({ variables: 1, classes: 10 }),
  temperature: temperatureSchema.prefault({ initial: 0.67, min: 0.67, rate: 0 }),
  hard: z.boolean().default(false),
});
/** Resolved config of `joint-vae`. */
export type JointVaeConfig = z.output<typeof jointVaeConfigSchema>;

/** VAE with concatenated Gaussian and Gumbel-softmax codes. */
export class JointVae extends VariationalAutoencoder<JointVaeConfig> {
  override readonly ioNames: Partial<Record<PartName, PartIoNames>> = {
    encoder: { inputs: ['image'], outputs: ['mu', 'logvar', 'logits'] },
    decoder: { inputs: ['z'], outputs: ['image'] },
  };
  /** Continuous plus categorical code size (what `decode` takes). */
  override readonly latentSize = this.config.latentSize + this.categoricalSize();

  private categoricalSize(): number {
    return this.config.categorical.variables * this.config.categorical.classes;
  }

  protected override buildEncoder(init: Initialisers): tf.LayersModel {
    const image = imageInput(this.shape);
    const h = encoderTrunk(image, this.config, this.shape, init);
    const mu = dense(h, this.config.latentSize, 'linear', init, 'mu');
    const logvar = dense(h, this.config.latentSize, 'linear', init, 'logvar');
    const logits = dense(h, this.categoricalSize(), 'linear', init, 'logits');
    return tf.model({ inputs: image, outputs: [mu, logvar, logits], name: 'encoder' });
  }

  protected override buildDecoder(init: Initialisers): tf.LayersModel {
    // Built in the parent's constructor, before this class's fields exist: size from the config.
    const zIn = tf.input({ shape: [this.config.latentSize + this.categoricalSize()], name: 'z' });
    return tf.model({ inputs: zIn, outputs: decoderBody(zIn, this.config, this.shape, init), name: 'decoder' });
  }

  private heads(x: tf.Tensor4D, training: boolean): [tf.Tensor2D, tf.Tensor2D, tf.Tensor3D] {
    const [mu, logvar, logits] = this.parts.encoder.apply(x, { training }) as tf.Tensor2D[];
    return [mu, logvar, tf.reshape(logits, [-1, this.config.categorical.variables, this.config.categorical.classes])];
  }

  protected override posterior(batch: TrainBatch, training: boolean): [tf.Tensor2D, tf.Tensor2D] {
    const [mu, logvar] = this.heads(batch.x, training);
    return [mu, logvar];
  }

  protected override loss(batch: TrainBatch, ctx: StepContext): LossTerms {
    const [mu, logvar, logits] = this.heads(batch.x, true);
    const temperature = temperatureAt(this.config.temperature, ctx.step);
    const continuous = this.reparameterise(mu, logvar, ctx.seed);
    const discrete = gumbelSoftmax(logits, temperature, Rng.derive(ctx.seed, 'categorical').seed(), this.config.hard);
    const zSample = tf.concat([continuous, tf.reshape(discrete, [-1, this.categoricalSize()])], 1) as tf.Tensor2D;
    const rec = reconstructionLoss(this.config.reconstruction, batch.x, this.reconstructFrom(zSample, batch, true), this.config.reduction);
    const klContinuous = gaussianKl(mu, logvar);
    const klDiscrete = categoricalKlToUniform(logits);
    const kl = tf.add(klContinuous, klDiscrete) as tf.Scalar;
    const total = tf.add(rec, tf.mul(ctx.beta, kl)) as tf.Scalar;
    return { total, terms: { total, reconstruction: rec, kl, klContinuous, klDiscrete, temperature: tf.scalar(temperature) } };
  }

  /** [mu | one-hot of the most likely classes]. */
  override encode(x: tf.Tensor4D): tf.Tensor2D {
    const [mu, , logits] = this.heads(x, false);
    return tf.concat([mu, argmaxOneHot(tf.reshape(logits, [-1, this.categoricalSize()]), this.config.categorical)], 1) as tf.Tensor2D;
  }

  override samplePrior(n: number, seed: number): tf.Tensor2D {
    const continuous = tf.randomNormal([n, this.config.latentSize], 0, 1, 'float32', seed);
    return tf.concat([continuous, uniformOneHot(n, this.config.categorical, Rng.derive(seed, 'categorical').seed())], 1) as tf.Tensor2D;
  }

  /** Reconstruction of a sample (Gaussian draw and exact one-hot), both KLs, and the negative ELBO. */
  override evaluateBatch(batch: TrainBatch, ctx: StepContext): Record<string, tf.Scalar> {
    const [mu, logvar, logits] = this.heads(batch.x, false);
    const continuous = this.reparameterise(mu, logvar, ctx.seed);
    const discrete = tf.reshape(gumbelMaxOneHot(logits, Rng.derive(ctx.seed, 'categorical').seed()), [-1, this.categoricalSize()]);
    const rec = reconstructionLoss(this.config.reconstruction, batch.x, this.reconstructFrom(tf.concat([continuous, discrete], 1) as tf.Tensor2D, batch, false), this.config.reduction);
    const klContinuous = gaussianKl(mu, logvar);
    const klDiscrete = categoricalKlToUniform(logits);
    const kl = tf.add(klContinuous, klDiscrete) as tf.Scalar;
    return { reconstruction: rec, kl, klContinuous, klDiscrete, negElbo: tf.add(rec, kl) as tf.Scalar };
  }
}

/** Registry entry of `joint-vae`. */
export const jointVaeFamily: FamilyDefinition<JointVaeConfig> = {
  name: 'joint-vae',
  description: 'Joint VAE: Gaussian and Gumbel-softmax categorical codes concatenated; reconstruction + both KLs.',
  configSchema: jointVaeConfigSchema,
  tinyConfig: { family: 'joint-vae', convChannels: [4, 8], latentSize: 2, hiddenSizes: [16], categorical: { variables: 2, classes: 3 } },
  exportParts: ['encoder', 'decoder'],
  // Reconstruction feeds [mu | arg-max one-hot of the logits]; the ELBO needs the categorical KL too.
  evaluation: { metrics: ['reconstruction', 'fid', 'latent-classifiers'], prior: 'gaussian-and-categorical' },
  build: (config, shape, seed) => new JointVae(config, shape, seed),
};
