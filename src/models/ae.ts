/**
 * `ae`: deterministic autoencoder, conv (default) or MLP. The parent of `dae` and `sparse-ae`.
 *
 * encoder: image -> code [latentSize];  decoder: code -> image (sigmoid for [0,1], tanh for [-1,1]).
 */
import { z } from 'zod';
import { tf } from '../core/tfjs-backend';
import { reconstructionLoss } from './losses';
import {
  Initialisers,
  batchNormMomentumSchema,
  convDown,
  convUp,
  dense,
  downsampledSize,
  hiddenActivationSchema,
  imageActivation,
  imageInput,
} from './layers';
import type { DataShape, FamilyDefinition, FamilyModel, LossTerms, PartIoNames, PartName, StepContext, TrainBatch, TrainingPhase } from './types';

/** Architecture config shared by the autoencoder families. */
export const autoencoderConfigSchema = z.object({
  family: z.string(),
  /** Size of the latent code. */
  latentSize: z.number().int().positive().default(16),
  /** 'conv': strided convs + dense code; 'mlp': dense layers only. */
  architecture: z.enum(['conv', 'mlp']).default('conv'),
  /** Channels of the stride-2 conv layers (conv architecture); each halves the image size. */
  convChannels: z.array(z.number().int().positive()).min(1).default([32, 64]),
  /** Hidden layer sizes (mlp architecture), mirrored in the decoder. */
  hiddenSizes: z.array(z.number().int().positive()).min(1).default([400]),
  activation: hiddenActivationSchema.default('relu'),
  batchNorm: z.boolean().default(false),
  /** With batchNorm: how far each step moves the running statistics, in PyTorch's convention (default 0.1, as torch.nn.BatchNorm2d; layers.ts BATCH_NORM_MOMENTUM). */
  batchNormMomentum: batchNormMomentumSchema,
  /** Reconstruction loss; 'bce' needs the 'unit' value range. */
  reconstruction: z.enum(['bce', 'mse']).default('bce'),
  /** Reduction over the pixels of an image; said explicitly because it sets the KL scale. */
  reduction: z.enum(['sum', 'mean']).default('sum'),
});

/** Resolved config of the autoencoder families. */
export type AutoencoderConfig = z.output<typeof autoencoderConfigSchema>;

export const aeConfigSchema = autoencoderConfigSchema.extend({ family: z.literal('ae') });
export type AeConfig = z.output<typeof aeConfigSchema>;

/** Part inputs that conditional children add (the label as a one-hot vector). */
export interface ConditionalInputs {
  label?: tf.SymbolicTensor;
}

/**
 * Build an encoder trunk (image -> features before the code heads) for either architecture.
 * Children reuse it; `extra` (e.g. a one-hot label) is concatenated to the flattened features.
 */
export function encoderTrunk(
  image: tf.SymbolicTensor,
  config: AutoencoderConfig,
  shape: DataShape,
  init: Initialisers,
  extra?: tf.SymbolicTensor,
): tf.SymbolicTensor {
  let h: tf.SymbolicTensor;
  if (config.architecture === 'conv') {
    downsampledSize(shape, config.convChannels.length, 'model.convChannels');
    h = convDown(image, config.convChannels, { activation: config.activation, batchNorm: config.batchNorm, batchNormMomentum: config.batchNormMomentum }, init, 'enc');
    h = tf.layers.flatten({ name: 'enc_flatten' }).apply(h) as tf.SymbolicTensor;
    if (extra) h = tf.layers.concatenate({ name: 'enc_concat_label' }).apply([h, extra]) as tf.SymbolicTensor;
  } else {
    h = tf.layers.flatten({ name: 'enc_flatten' }).apply(image) as tf.SymbolicTensor;
    if (extra) h = tf.layers.concatenate({ name: 'enc_concat_label' }).apply([h, extra]) as tf.SymbolicTensor;
    config.hiddenSizes.forEach((units, i) => {
      h = dense(h, units, config.activation, init, `enc_dense${i}`);
    });
  }
  return h;
}

/** Build a decoder body (code [+ label] -> image) for either architecture. */
export function decoderBody(
  code: tf.SymbolicTensor,
  config: AutoencoderConfig,
  shape: DataShape,
  init: Initialisers,
): tf.SymbolicTensor {
  const out = imageActivation(shape);
  if (config.architecture === 'conv') {
    const { height, width } = downsampledSize(shape, config.convChannels.length, 'model.convChannels');
    const channels = config.convChannels;
    const deepest = channels[channels.length - 1];
    let h = dense(code, height * width * deepest, config.activation, init, 'dec_dense');
    h = tf.layers.reshape({ targetShape: [height, width, deepest], name: 'dec_reshape' }).apply(h) as tf.SymbolicTensor;
    const upChannels = [...channels].reverse().slice(1);
    return convUp(h, upChannels, shape.channels, { activation: config.activation, batchNorm: config.batchNorm, batchNormMomentum: config.batchNormMomentum, finalActivation: out }, init, 'dec');
  }
  let h = code;
  [...config.hiddenSizes].reverse().forEach((units, i) => {
    h = dense(h, units, config.activation, init, `dec_dense${i}`);
  });
  h = dense(h, shape.height * shape.width * shape.channels, out, init, 'dec_out');
  return tf.layers.reshape({ targetShape: [shape.height, shape.width, shape.channels], name: 'dec_image' }).apply(h) as tf.SymbolicTensor;
}

/** Trainable tf.Variables of some parts (what an optimizer updates). */
export function trainableVariables(...models: tf.LayersModel[]): tf.Variable[] {
  return models.flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Deterministic conv/MLP autoencoder. */
export class Autoencoder<C extends AutoencoderConfig = AeConfig> implements FamilyModel<C> {
  readonly parts: { encoder: tf.LayersModel; decoder: tf.LayersModel };
  readonly phases: readonly TrainingPhase[];
  readonly ioNames: Partial<Record<PartName, PartIoNames>> = {
    encoder: { inputs: ['image'], outputs: ['code'] },
    decoder: { inputs: ['z'], outputs: ['image'] },
  };
  readonly latentSize: number;
  readonly conditional: boolean = false;

  constructor(
    readonly config: C,
    readonly shape: DataShape,
    seed: number,
  ) {
    this.latentSize = config.latentSize;
    const init = new Initialisers(seed, config.family);
    this.parts = { encoder: this.buildEncoder(init), decoder: this.buildDecoder(init) };
    this.phases = [
      {
        name: 'autoencoder',
        variables: () => trainableVariables(this.parts.encoder, this.parts.decoder),
        loss: (batch, ctx) => this.loss(batch, ctx),
      },
    ];
  }

  protected buildEncoder(init: Initialisers): tf.LayersModel {
    const image = imageInput(this.shape);
    const h = encoderTrunk(image, this.config, this.shape, init);
    const code = dense(h, this.config.latentSize, 'linear', init, 'enc_code');
    return tf.model({ inputs: image, outputs: code, name: 'encoder' });
  }

  protected buildDecoder(init: Initialisers): tf.LayersModel {
    const z = tf.input({ shape: [this.config.latentSize], name: 'z' });
    return tf.model({ inputs: z, outputs: decoderBody(z, this.config, this.shape, init), name: 'decoder' });
  }

  /** What the encoder sees during training; `dae` corrupts it. Never applied at evaluation. */
  protected trainingInput(x: tf.Tensor4D, _ctx: StepContext): tf.Tensor4D {
    return x;
  }

  /** Extra loss terms on the code (`sparse-ae` adds its penalty here). */
  protected codePenalty(_code: tf.Tensor2D): Record<string, tf.Scalar> {
    return {};
  }

  protected loss(batch: TrainBatch, ctx: StepContext): LossTerms {
    const code = this.parts.encoder.apply(this.trainingInput(batch.x, ctx), { training: true }) as tf.Tensor2D;
    const reconstruction = this.parts.decoder.apply(code, { training: true }) as tf.Tensor4D;
    const rec = reconstructionLoss(this.config.reconstruction, batch.x, reconstruction, this.config.reduction);
    const penalties = this.codePenalty(code);
    const total = Object.values(penalties).reduce<tf.Scalar>((sum, term) => tf.add(sum, term), rec);
    return { total, terms: { total, reconstruction: rec, ...penalties } };
  }

  encode(x: tf.Tensor4D): tf.Tensor2D {
    return this.parts.encoder.apply(x, { training: false }) as tf.Tensor2D;
  }

  decode(z: tf.Tensor2D): tf.Tensor4D {
    return this.parts.decoder.apply(z, { training: false }) as tf.Tensor4D;
  }

  evaluateBatch(batch: TrainBatch, _ctx: StepContext): Record<string, tf.Scalar> {
    const reconstruction = this.decode(this.encode(batch.x));
    return { reconstruction: reconstructionLoss(this.config.reconstruction, batch.x, reconstruction, this.config.reduction) };
  }

  dispose(): void {
    for (const part of Object.values(this.parts)) part.dispose();
  }
}

/** Registry entry. */
export const aeFamily: FamilyDefinition<AeConfig> = {
  name: 'ae',
  description: 'Deterministic autoencoder (conv or MLP).',
  configSchema: aeConfigSchema,
  tinyConfig: { family: 'ae', convChannels: [4, 8], latentSize: 3, hiddenSizes: [16] },
  exportParts: ['encoder', 'decoder'],
  evaluation: { metrics: ['reconstruction', 'fid', 'latent-classifiers'], prior: 'fitted-gaussian' },
  build: (config, shape, seed) => new Autoencoder(config, shape, seed),
};
