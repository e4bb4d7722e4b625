/**
 * `cvae`: conditional VAE. Encoder and decoder both take the class label as a one-hot vector
 * (input name `label`), so the decoder generates a chosen class on demand (e.g. only 5s and 7s).
 */
import { z } from 'zod';
import { tf } from '../core/tfjs-backend';
import { AekitError } from '../core/errors';
import { autoencoderConfigSchema, decoderBody, encoderTrunk } from './ae';
import { Initialisers, dense, imageInput } from './layers';
import { VariationalAutoencoder } from './vae';
import type { FamilyDefinition, PartIoNames, PartName, TrainBatch } from './types';

export const cvaeConfigSchema = autoencoderConfigSchema.extend({ family: z.literal('cvae') });
export type CvaeConfig = z.output<typeof cvaeConfigSchema>;

/** Conditional VAE. */
export class ConditionalVae extends VariationalAutoencoder<CvaeConfig> {
  override readonly conditional = true;
  override readonly ioNames: Partial<Record<PartName, PartIoNames>> = {
    encoder: { inputs: ['image', 'label'], outputs: ['mu', 'logvar'] },
    decoder: { inputs: ['z', 'label'], outputs: ['image'] },
  };

  private labelInput(): tf.SymbolicTensor {
    if (this.shape.numClasses < 2) {
      throw new AekitError('BAD_CONFIG', `cvae needs a labelled dataset with at least 2 classes, found ${this.shape.numClasses}`, { where: 'model.family' });
    }
    return tf.input({ shape: [this.shape.numClasses], name: 'label' });
  }

  protected override buildEncoder(init: Initialisers): tf.LayersModel {
    const image = imageInput(this.shape);
    const label = this.labelInput();
    const h = encoderTrunk(image, this.config, this.shape, init, label);
    const mu = dense(h, this.config.latentSize, 'linear', init, 'mu');
    const logvar = dense(h, this.config.latentSize, 'linear', init, 'logvar');
    return tf.model({ inputs: [image, label], outputs: [mu, logvar], name: 'encoder' });
  }

  protected override buildDecoder(init: Initialisers): tf.LayersModel {
    const zIn = tf.input({ shape: [this.config.latentSize], name: 'z' });
    const label = this.labelInput();
    const joined = tf.layers.concatenate({ name: 'dec_concat_label' }).apply([zIn, label]) as tf.SymbolicTensor;
    return tf.model({ inputs: [zIn, label], outputs: decoderBody(joined, this.config, this.shape, init), name: 'decoder' });
  }

  protected override posterior(batch: TrainBatch, training: boolean): [tf.Tensor2D, tf.Tensor2D] {
    return this.parts.encoder.apply([batch.x, batch.oneHot], { training }) as [tf.Tensor2D, tf.Tensor2D];
  }

  protected override reconstructFrom(z: tf.Tensor2D, batch: TrainBatch, training: boolean): tf.Tensor4D {
    return this.parts.decoder.apply([z, batch.oneHot], { training }) as tf.Tensor4D;
  }

  override decode(z: tf.Tensor2D, oneHot?: tf.Tensor2D): tf.Tensor4D {
    if (!oneHot) throw new AekitError('BAD_ARGUMENT', 'cvae.decode needs one-hot labels');
    return this.parts.decoder.apply([z, oneHot], { training: false }) as tf.Tensor4D;
  }
}

export const cvaeFamily: FamilyDefinition<CvaeConfig> = {
  name: 'cvae',
  description: 'Conditional VAE: encoder and decoder take a one-hot class label.',
  configSchema: cvaeConfigSchema,
  tinyConfig: { family: 'cvae', convChannels: [4, 8], latentSize: 3, hiddenSizes: [16] },
  exportParts: ['encoder', 'decoder'],
  evaluation: { metrics: ['reconstruction', 'elbo', 'fid', 'latent-classifiers'], prior: 'standard-normal' },
  needsLabels: true,
  build: (config, shape, seed) => new ConditionalVae(config, shape, seed),
};
