/**
 * `gumbel-vae`: VAE with a discrete latent: N categorical variables of K classes each, sampled
 * through the Gumbel-softmax relaxation (Jang et al. 2017; Maddison et al. 2017).
 *
 * encoder: image -> logits [N*K] (row-major: variable n's K logits are entries n*K..n*K+K-1);
 * decoder: z [N*K] (one-hot or relaxed code) -> image.
 * Loss = reconstruction + beta * KL(q(z|x) || uniform categorical prior), beta from the training
 * config. The temperature follows tau(step) = max(min, initial * exp(-rate * step)) of the global
 * step (so a resumed run continues the schedule), and is logged as the step term `temperature`.
 * With `hard`, samples are one-hot in the forward pass with the relaxed gradient (straight-through).
 */
import { z } from 'zod';
import { tf } from '../core/tfjs-backend';
import { categoricalKlToUniform, reconstructionLoss } from './losses';
import { autoencoderConfigSchema, decoderBody, encoderTrunk, trainableVariables } from './ae';
import type { AutoencoderConfig } from './ae';
import { Initialisers, dense, imageInput } from './layers';
import type { DataShape, FamilyDefinition, FamilyModel, LossTerms, PartIoNames, PartName, StepContext, TrainBatch, TrainingPhase } from './types';

/** Keeps log(-log(u)) finite when the uniform draw is 0 or 1 (as in Jang et al.'s reference code). */
export const GUMBEL_EPSILON = 1e-20;

/** N categorical variables of K classes (Jang et al.'s MNIST setting: 30 of 10). */
export const categoricalSchema = z
  .object({
    variables: z.number().int().positive().default(30),
    classes: z.number().int().min(2).default(10),
  })
  .prefault({});
/** Resolved {@link categoricalSchema}. */
export type CategoricalConfig = z.output<typeof categoricalSchema>;

/**
 * Temperature annealing tau(step) = max(min, initial * exp(-rate * step)), evaluated every step.
 * Defaults: 1.0 down to the floor 0.5, reached after ln(2) / 3e-4 = 2310 steps.
 */
export const temperatureSchema = z
  .object({
    initial: z.number().positive().default(1),
    min: z.number().positive().default(0.5),
    rate: z.number().min(0).default(3e-4),
  })
  .prefault({});
/** Resolved {@link temperatureSchema}. */
export type TemperatureSchedule = z.output<typeof temperatureSchema>;

/** The Gumbel-softmax temperature at a global training step. */
export function temperatureAt(schedule: TemperatureSchedule, step: number): number {
  return Math.max(schedule.min, schedule.initial * Math.exp(-schedule.rate * step));
}

/** One-hot of the arg-max over the last axis, with the identity as gradient (straight-through). */
const straightThrough = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const y = args[0] as tf.Tensor;
  return { value: tf.oneHot(tf.argMax(y, -1), y.shape[y.shape.length - 1]).toFloat(), gradFunc: (dy: tf.Tensor) => dy };
});

/** Gumbel noise -log(-log(u)) of a shape, seeded. */
function gumbelNoise(shape: number[], seed: number): tf.Tensor {
  const u = tf.randomUniform(shape, 0, 1, 'float32', seed);
  return tf.neg(tf.log(tf.add(tf.neg(tf.log(tf.add(u, GUMBEL_EPSILON))), GUMBEL_EPSILON)));
}

/** Relaxed (or straight-through one-hot) samples of categorical logits [B, N, K]. */
export function gumbelSoftmax(logits: tf.Tensor3D, temperature: number, seed: number, hard: boolean): tf.Tensor3D {
  return tf.tidy(() => {
    const soft = tf.softmax(tf.div(tf.add(logits, gumbelNoise(logits.shape, seed)), temperature)) as tf.Tensor3D;
    return hard ? (straightThrough(soft) as tf.Tensor3D) : soft;
  });
}

/** Exact one-hot samples of categorical logits [B, N, K] by the Gumbel-max trick. */
export function gumbelMaxOneHot(logits: tf.Tensor3D, seed: number): tf.Tensor3D {
  return tf.tidy(() => tf.oneHot(tf.argMax(tf.add(logits, gumbelNoise(logits.shape, seed)), -1), logits.shape[2]).toFloat() as tf.Tensor3D);
}

/** Random one-hot codes [n, N*K] from the uniform categorical prior. */
export function uniformOneHot(n: number, categorical: CategoricalConfig, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const classes = tf.randomUniform([n, categorical.variables], 0, categorical.classes, 'int32', seed);
    return tf.reshape(tf.oneHot(classes, categorical.classes).toFloat(), [n, categorical.variables * categorical.classes]) as tf.Tensor2D;
  });
}

/** Arg-max one-hot codes [B, N*K] of logits [B, N*K]: the deterministic code of an image. */
export function argmaxOneHot(logits: tf.Tensor2D, categorical: CategoricalConfig): tf.Tensor2D {
  return tf.tidy(() => {
    const grouped = tf.reshape(logits, [-1, categorical.variables, categorical.classes]);
    return tf.reshape(tf.oneHot(tf.argMax(grouped, -1), categorical.classes).toFloat(), logits.shape) as tf.Tensor2D;
  });
}

/** Architecture config of `gumbel-vae` (defaults filled in by parsing). */
export const gumbelVaeConfigSchema = autoencoderConfigSchema.omit({ latentSize: true }).extend({
  family: z.literal('gumbel-vae'),
  categorical: categoricalSchema,
  temperature: temperatureSchema,
  /** Straight-through: one-hot samples forward, relaxed gradient backward. */
  hard: z.boolean().default(false),
});
/** Resolved config of `gumbel-vae`. */
export type GumbelVaeConfig = z.output<typeof gumbelVaeConfigSchema>;

/** Categorical VAE trained with Gumbel-softmax samples. */
export class GumbelVae implements FamilyModel<GumbelVaeConfig> {
  readonly parts: { encoder: tf.LayersModel; decoder: tf.LayersModel };
  readonly phases: readonly TrainingPhase[];
  readonly ioNames: Partial<Record<PartName, PartIoNames>> = {
    encoder: { inputs: ['image'], outputs: ['logits'] },
    decoder: { inputs: ['z'], outputs: ['image'] },
  };
  /** Size of the code the decoder takes: N*K. */
  readonly latentSize: number;
  readonly conditional = false;

  constructor(
    readonly config: GumbelVaeConfig,
    readonly shape: DataShape,
    seed: number,
  ) {
    const { variables, classes } = config.categorical;
    this.latentSize = variables * classes;
    // The conv/MLP stacks are the autoencoders'; only the code size is ours.
    const stacks: AutoencoderConfig = { ...config, latentSize: this.latentSize };
    const init = new Initialisers(seed, config.family);
    const image = imageInput(shape);
    const logits = dense(encoderTrunk(image, stacks, shape, init), this.latentSize, 'linear', init, 'logits');
    const zIn = tf.input({ shape: [this.latentSize], name: 'z' });
    this.parts = {
      encoder: tf.model({ inputs: image, outputs: logits, name: 'encoder' }),
      decoder: tf.model({ inputs: zIn, outputs: decoderBody(zIn, stacks, shape, init), name: 'decoder' }),
    };
    this.phases = [
      {
        name: 'autoencoder',
        variables: () => trainableVariables(this.parts.encoder, this.parts.decoder),
        loss: (batch, ctx) => this.loss(batch, ctx),
      },
    ];
  }

  private grouped(logits: tf.Tensor2D): tf.Tensor3D {
    return tf.reshape(logits, [-1, this.config.categorical.variables, this.config.categorical.classes]);
  }

  private loss(batch: TrainBatch, ctx: StepContext): LossTerms {
    const logits = this.grouped(this.parts.encoder.apply(batch.x, { training: true }) as tf.Tensor2D);
    const temperature = temperatureAt(this.config.temperature, ctx.step);
    const z = tf.reshape(gumbelSoftmax(logits, temperature, ctx.seed, this.config.hard), [-1, this.latentSize]) as tf.Tensor2D;
    const reconstruction = this.parts.decoder.apply(z, { training: true }) as tf.Tensor4D;
    const rec = reconstructionLoss(this.config.reconstruction, batch.x, reconstruction, this.config.reduction);
    const kl = categoricalKlToUniform(logits);
    const total = tf.add(rec, tf.mul(ctx.beta, kl)) as tf.Scalar;
    return { total, terms: { total, reconstruction: rec, kl, temperature: tf.scalar(temperature) } };
  }

  /** One-hot code of the most likely class of each variable. */
  encode(x: tf.Tensor4D): tf.Tensor2D {
    return argmaxOneHot(this.parts.encoder.apply(x, { training: false }) as tf.Tensor2D, this.config.categorical);
  }

  decode(z: tf.Tensor2D): tf.Tensor4D {
    return this.parts.decoder.apply(z, { training: false }) as tf.Tensor4D;
  }

  samplePrior(n: number, seed: number): tf.Tensor2D {
    return uniformOneHot(n, this.config.categorical, seed);
  }

  /** Reconstruction of an exact one-hot sample, the KL, and their sum (the discrete model's negative ELBO). */
  evaluateBatch(batch: TrainBatch, ctx: StepContext): Record<string, tf.Scalar> {
    const logits = this.grouped(this.parts.encoder.apply(batch.x, { training: false }) as tf.Tensor2D);
    const z = tf.reshape(gumbelMaxOneHot(logits, ctx.seed), [-1, this.latentSize]) as tf.Tensor2D;
    const rec = reconstructionLoss(this.config.reconstruction, batch.x, this.decode(z), this.config.reduction);
    const kl = categoricalKlToUniform(logits);
    return { reconstruction: rec, kl, negElbo: tf.add(rec, kl) as tf.Scalar };
  }

  dispose(): void {
    for (const part of Object.values(this.parts)) part.dispose();
  }
}

/** Registry entry of `gumbel-vae`. */
export const gumbelVaeFamily: FamilyDefinition<GumbelVaeConfig> = {
  name: 'gumbel-vae',
  description: 'Categorical VAE: N Gumbel-softmax variables of K classes, annealed temperature, soft or straight-through samples.',
  configSchema: gumbelVaeConfigSchema,
  tinyConfig: { family: 'gumbel-vae', convChannels: [4, 8], hiddenSizes: [16], categorical: { variables: 3, classes: 4 } },
  exportParts: ['encoder', 'decoder'],
  // The encoder outputs logits, not a code: reconstruction takes the arg-max one-hot of each group.
  evaluation: { metrics: ['reconstruction', 'fid', 'latent-classifiers'], prior: 'uniform-categorical' },
  build: (config, shape, seed) => new GumbelVae(config, shape, seed),
};
