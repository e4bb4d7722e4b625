/**
 * `dae`: denoising autoencoder. Same architecture and loss as `ae`; the encoder sees a corrupted
 * copy of the batch during training only, and the reconstruction target stays the clean image.
 * Evaluation and export use the clean path (noise at eval was a bug in one of the course reports).
 */
import { z } from 'zod';
import { tf } from '../core/tfjs-backend';
import { Autoencoder, autoencoderConfigSchema } from './ae';
import type { FamilyDefinition, StepContext } from './types';

/** Architecture config of `dae` (defaults filled in by parsing). */
export const daeConfigSchema = autoencoderConfigSchema.extend({
  family: z.literal('dae'),
  noise: z
    .object({
      /** gaussian: add N(0, level^2); masking: zero a `level` fraction of pixels; salt-and-pepper: set a `level` fraction to min/max. */
      kind: z.enum(['gaussian', 'masking', 'salt-and-pepper']).default('gaussian'),
      level: z.number().min(0).max(1).default(0.3),
    })
    .prefault({}),
});
/** Resolved config of `dae`. */
export type DaeConfig = z.output<typeof daeConfigSchema>;

/** Denoising autoencoder. */
export class DenoisingAutoencoder extends Autoencoder<DaeConfig> {
  protected override trainingInput(x: tf.Tensor4D, ctx: StepContext): tf.Tensor4D {
    const [low, high] = this.shape.valueRange === 'unit' ? [0, 1] : [-1, 1];
    const { kind, level } = this.config.noise;
    if (kind === 'gaussian') {
      const noisy = tf.add(x, tf.randomNormal(x.shape, 0, level * (high - low), 'float32', ctx.seed));
      return tf.clipByValue(noisy, low, high) as tf.Tensor4D;
    }
    const u = tf.randomUniform(x.shape, 0, 1, 'float32', ctx.seed);
    if (kind === 'masking') return tf.where(tf.less(u, level), tf.fill(x.shape, low), x) as tf.Tensor4D;
    const salt = tf.where(tf.less(u, level / 2), tf.fill(x.shape, high), x);
    return tf.where(tf.logicalAnd(tf.greaterEqual(u, level / 2), tf.less(u, level)), tf.fill(x.shape, low), salt) as tf.Tensor4D;
  }
}

/** Registry entry of `dae`. */
export const daeFamily: FamilyDefinition<DaeConfig> = {
  name: 'dae',
  description: 'Denoising autoencoder: gaussian, masking or salt-and-pepper noise in training only.',
  configSchema: daeConfigSchema,
  tinyConfig: { family: 'dae', convChannels: [4, 8], latentSize: 3, hiddenSizes: [16] },
  exportParts: ['encoder', 'decoder'],
  evaluation: { metrics: ['reconstruction', 'fid', 'latent-classifiers'], prior: 'fitted-gaussian' },
  build: (config, shape, seed) => new DenoisingAutoencoder(config, shape, seed),
};
