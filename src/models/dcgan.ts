/**
 * `dcgan`: the DCGAN of the PyTorch tutorial (Radford et al. 2016), scaled to the data.
 *
 * generator: z [latentSize] -> image, ConvTranspose-BN-ReLU blocks and a tanh output (images in
 * [-1, 1], so `data.valueRange: 'symmetric'` is required). discriminator: image -> logit [1],
 * Conv-BN-LeakyReLU(0.2) blocks (no BN on the first). Every stride-2 layer doubles (generator) or
 * halves (discriminator) the image and halves/doubles the feature maps, as in the tutorial.
 *
 * Scaling: with `upsamplings` k the generator starts at (H / 2^k) x (W / 2^k). The default k is the
 * largest that keeps that start at >= 4 pixels: 64x64 gives k = 4 and exactly the tutorial's stack
 * (4 -> 8 -> 16 -> 32 -> 64, 512 -> 256 -> 128 -> 64 -> 3 maps); 28x28 MNIST gives k = 2
 * (7 -> 14 -> 28, 128 -> 64 -> 1 maps). The tutorial's first ConvTranspose (kernel 4, stride 1,
 * no padding, on a 1x1 input) is a Dense layer reshaped to the start size, and the
 * discriminator's last Conv (kernel 4, no padding, on a 4x4 map) is Flatten + Dense: the same maps,
 * for any start size. No layer has a bias (the tutorial's bias=False).
 *
 * Training: two phases per step, each with its own Adam: the discriminator (BCE on real -> 1 and
 * fake -> 0), then the generator (BCE on fake -> 1, the non-saturating loss) on the same z.
 * The tutorial's optimiser (lr 2e-4, betas (0.5, 0.999)) is in experiments/dcgan-mnist.json.
 * `diversity` (mean pairwise distance of generated images / that of real images of the batch) is
 * logged each step and on validation; when it falls to under half its best, the trainer warns of
 * mode collapse.
 */
import { z } from 'zod';
import { AekitError } from '../core/errors';
import { Rng } from '../core/rng';
import { tf } from '../core/tfjs-backend';
import { logitBinaryCrossEntropy } from './losses';
import { trainableVariables } from './ae';
import { Initialisers, LEAKY_RELU_ALPHA, activate, imageActivation, imageInput } from './layers';
import type { DataShape, FamilyDefinition, FamilyModel, LossTerms, PartIoNames, PartName, StepContext, TrainBatch, TrainingPhase } from './types';

/** DCGAN's initialisation: conv/dense weights N(0, 0.02), BatchNorm gamma N(1, 0.02), beta 0. */
export const DCGAN_INIT_STDDEV = 0.02;

/**
 * PyTorch BatchNorm2d's defaults in tfjs terms (tfjs's own are momentum 0.99, epsilon 1e-3):
 * PyTorch's momentum 0.1 weighs the new batch, tfjs's momentum weighs the running value.
 */
export const PYTORCH_BATCH_NORM = { momentum: 0.9, epsilon: 1e-5 } as const;

/** Smallest generator start size (pixels) the default depth keeps; the tutorial starts at 4x4. */
export const DCGAN_MIN_START_SIZE = 4;

/**
 * An epoch warns of mode collapse when the diversity ratio falls below this fraction of the best
 * ratio of earlier epochs. Relative, because an untrained generator is also undiverse (about 0.2
 * on MNIST) and only a drop after it has learned to vary its output signals collapse.
 */
export const MODE_COLLAPSE_DROP = 0.5;

/** Architecture config of `dcgan` (defaults filled in by parsing). */
export const dcganConfigSchema = z.object({
  family: z.literal('dcgan'),
  /** Size of z (the tutorial's nz). */
  latentSize: z.number().int().positive().default(100),
  /** Feature maps of the generator's last hidden layer (ngf); doubled at each layer towards z. */
  generatorFeatures: z.number().int().positive().default(64),
  /** Feature maps of the discriminator's first layer (ndf); doubled at each layer. */
  discriminatorFeatures: z.number().int().positive().default(64),
  /** Number of stride-2 layers (default: the deepest with a start size >= 4 pixels). */
  upsamplings: z.number().int().positive().optional(),
});
/** Resolved config of `dcgan`. */
export type DcganConfig = z.output<typeof dcganConfigSchema>;

/** The default depth: the most halvings that divide H and W and keep both >= 4 pixels. */
export function defaultUpsamplings(shape: DataShape): number {
  let k = 0;
  while (
    shape.height % 2 ** (k + 1) === 0 &&
    shape.width % 2 ** (k + 1) === 0 &&
    Math.min(shape.height, shape.width) / 2 ** (k + 1) >= DCGAN_MIN_START_SIZE
  ) {
    k += 1;
  }
  return k;
}

/** Check that the run's images are in [-1, 1] (the tanh output's range) for a GAN family. */
export function requireSymmetricRange(shape: DataShape, family: string): void {
  if (shape.valueRange !== 'symmetric') {
    throw new AekitError('BAD_CONFIG', `family '${family}' needs data.valueRange 'symmetric' (images in [-1, 1] for its tanh generator), found '${shape.valueRange}'`, {
      where: 'data.valueRange',
    });
  }
}

/** BatchNorm with PyTorch's settings and DCGAN's gamma initialisation. */
export function ganBatchNorm(init: Initialisers, name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ ...PYTORCH_BATCH_NORM, gammaInitializer: init.normal(1, DCGAN_INIT_STDDEV), name });
}

/** Mean pairwise L2 distance between the rows of a batch (flattened images); 0 for one image. */
export function meanPairwiseDistance(images: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const n = images.shape[0];
    if (n < 2) return tf.scalar(0);
    const flat = tf.reshape(images, [n, -1]) as tf.Tensor2D;
    const norms = tf.sum(tf.square(flat), 1, true);
    const squared = tf.relu(tf.sub(tf.add(norms, tf.transpose(norms)), tf.mul(2, tf.matMul(flat, flat, false, true))));
    // The diagonal is 0 (up to rounding, which relu and the -n below keep harmless).
    return tf.div(tf.sum(tf.sqrt(squared)), n * (n - 1)) as tf.Scalar;
  });
}

/** Generated-to-real diversity ratio of a batch (see {@link meanPairwiseDistance}). */
export function diversityRatio(fake: tf.Tensor, real: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(meanPairwiseDistance(fake), tf.add(meanPairwiseDistance(real), 1e-12)) as tf.Scalar);
}

/** DCGAN generator and discriminator. */
export class Dcgan implements FamilyModel<DcganConfig> {
  readonly parts: { generator: tf.LayersModel; discriminator: tf.LayersModel };
  readonly phases: readonly TrainingPhase[];
  readonly ioNames: Partial<Record<PartName, PartIoNames>> = {
    generator: { inputs: ['z'], outputs: ['image'] },
    discriminator: { inputs: ['image'], outputs: ['logit'] },
  };
  readonly latentSize: number;
  readonly conditional = false;
  /** Stride-2 layers of each network. */
  readonly upsamplings: number;
  /** Highest diversity ratio of the epochs seen so far (for {@link epochWarnings}). */
  private bestDiversity = 0;

  constructor(
    readonly config: DcganConfig,
    readonly shape: DataShape,
    seed: number,
  ) {
    requireSymmetricRange(shape, config.family);
    this.latentSize = config.latentSize;
    this.upsamplings = config.upsamplings ?? defaultUpsamplings(shape);
    const factor = 2 ** this.upsamplings;
    if (this.upsamplings < 1 || shape.height % factor !== 0 || shape.width % factor !== 0) {
      const found = `found ${shape.height}x${shape.width}`;
      // No default depth fits (e.g. Omniglot's 105x105): say what sizes do, not "divisible by 2^0".
      const message =
        config.upsamplings === undefined
          ? `dcgan needs an even image height and width of at least ${2 * DCGAN_MIN_START_SIZE} pixels (one stride-2 layer or more), ${found}; resize the data, e.g. --image-size 64x64 (the DCGAN tutorial's size)`
          : `dcgan needs image height and width divisible by 2^upsamplings = ${factor}, ${found}; set model.upsamplings or resize the data`;
      throw new AekitError('BAD_CONFIG', message, { where: 'model.upsamplings' });
    }
    const init = new Initialisers(seed, config.family);
    this.parts = { generator: this.buildGenerator(init), discriminator: this.buildDiscriminator(init) };
    this.phases = [
      { name: 'discriminator', variables: () => trainableVariables(this.parts.discriminator), loss: (batch, ctx) => this.discriminatorLoss(batch, ctx) },
      { name: 'generator', variables: () => trainableVariables(this.parts.generator), loss: (batch, ctx) => this.generatorLoss(batch, ctx) },
    ];
  }

  private buildGenerator(init: Initialisers): tf.LayersModel {
    const k = this.upsamplings;
    const ngf = this.config.generatorFeatures;
    const [h0, w0] = [this.shape.height / 2 ** k, this.shape.width / 2 ** k];
    const z = tf.input({ shape: [this.latentSize], name: 'z' });
    let maps = ngf * 2 ** (k - 1);
    let h = tf.layers.dense({ units: h0 * w0 * maps, useBias: false, kernelInitializer: init.normal(0, DCGAN_INIT_STDDEV), name: 'g_project' }).apply(z) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [h0, w0, maps], name: 'g_reshape' }).apply(h) as tf.SymbolicTensor;
    h = activate(ganBatchNorm(init, 'g_bn0').apply(h) as tf.SymbolicTensor, 'relu', 'g_act0');
    for (let i = 1; i <= k; i++) {
      const last = i === k;
      maps = last ? this.shape.channels : maps / 2;
      h = tf.layers
        .conv2dTranspose({ filters: maps, kernelSize: 4, strides: 2, padding: 'same', useBias: false, kernelInitializer: init.normal(0, DCGAN_INIT_STDDEV), name: `g_deconv${i}` })
        .apply(h) as tf.SymbolicTensor;
      h = last ? activate(h, imageActivation(this.shape), 'g_out') : activate(ganBatchNorm(init, `g_bn${i}`).apply(h) as tf.SymbolicTensor, 'relu', `g_act${i}`);
    }
    return tf.model({ inputs: z, outputs: h, name: 'generator' });
  }

  private buildDiscriminator(init: Initialisers): tf.LayersModel {
    const image = imageInput(this.shape);
    let h = image;
    for (let i = 0; i < this.upsamplings; i++) {
      h = tf.layers
        .conv2d({ filters: this.config.discriminatorFeatures * 2 ** i, kernelSize: 4, strides: 2, padding: 'same', useBias: false, kernelInitializer: init.normal(0, DCGAN_INIT_STDDEV), name: `d_conv${i}` })
        .apply(h) as tf.SymbolicTensor;
      if (i > 0) h = ganBatchNorm(init, `d_bn${i}`).apply(h) as tf.SymbolicTensor;
      h = tf.layers.leakyReLU({ alpha: LEAKY_RELU_ALPHA, name: `d_act${i}` }).apply(h) as tf.SymbolicTensor;
    }
    h = tf.layers.flatten({ name: 'd_flatten' }).apply(h) as tf.SymbolicTensor;
    const logit = tf.layers.dense({ units: 1, useBias: false, kernelInitializer: init.normal(0, DCGAN_INIT_STDDEV), name: 'd_logit' }).apply(h) as tf.SymbolicTensor;
    return tf.model({ inputs: image, outputs: logit, name: 'discriminator' });
  }

  /** The step's fake batch: both phases draw the same z (the tutorial reuses one fake batch). */
  private fakes(batch: TrainBatch, ctx: StepContext, training: boolean): tf.Tensor4D {
    const z = this.samplePrior(batch.size, Rng.derive(ctx.seed, 'z').seed());
    return this.parts.generator.apply(z, { training }) as tf.Tensor4D;
  }

  private discriminatorLoss(batch: TrainBatch, ctx: StepContext): LossTerms {
    const realLogits = this.parts.discriminator.apply(batch.x, { training: true }) as tf.Tensor;
    const fakeLogits = this.parts.discriminator.apply(this.fakes(batch, ctx, true), { training: true }) as tf.Tensor;
    const total = tf.add(logitBinaryCrossEntropy(realLogits, 1), logitBinaryCrossEntropy(fakeLogits, 0)) as tf.Scalar;
    // D(x) and D(G(z)) as the tutorial prints them: mean probabilities of "real".
    return { total, terms: { total, dReal: tf.mean(tf.sigmoid(realLogits)) as tf.Scalar, dFake: tf.mean(tf.sigmoid(fakeLogits)) as tf.Scalar } };
  }

  private generatorLoss(batch: TrainBatch, ctx: StepContext): LossTerms {
    const fake = this.fakes(batch, ctx, true);
    const fakeLogits = this.parts.discriminator.apply(fake, { training: true }) as tf.Tensor;
    const total = logitBinaryCrossEntropy(fakeLogits, 1);
    return { total, terms: { total, dFake: tf.mean(tf.sigmoid(fakeLogits)) as tf.Scalar, diversity: diversityRatio(fake, batch.x) } };
  }

  /** Generated images (the generator in inference mode). */
  decode(z: tf.Tensor2D): tf.Tensor4D {
    return this.parts.generator.apply(z, { training: false }) as tf.Tensor4D;
  }

  samplePrior(n: number, seed: number): tf.Tensor2D {
    return tf.randomNormal([n, this.latentSize], 0, 1, 'float32', seed);
  }

  /**
   * Both losses, D(x), D(G(z)) and the diversity ratio on held-out images, with z fixed by the
   * validation batch's seed (the same z every epoch, so the numbers compare across epochs).
   * Inference mode uses BatchNorm's running statistics, which the discriminator's three training
   * calls per step (real, fake, fake; as in the PyTorch tutorial) fill mostly from fake batches,
   * so the discriminator's validation numbers can be far from its training ones (D(x) near 0 on
   * real images was seen on MNIST); judge it by the training terms, the generator by FID/diversity.
   */
  evaluateBatch(batch: TrainBatch, ctx: StepContext): Record<string, tf.Scalar> {
    const fake = this.fakes(batch, ctx, false);
    const realLogits = this.parts.discriminator.apply(batch.x, { training: false }) as tf.Tensor;
    const fakeLogits = this.parts.discriminator.apply(fake, { training: false }) as tf.Tensor;
    return {
      discriminator: tf.add(logitBinaryCrossEntropy(realLogits, 1), logitBinaryCrossEntropy(fakeLogits, 0)) as tf.Scalar,
      generator: logitBinaryCrossEntropy(fakeLogits, 1),
      dReal: tf.mean(tf.sigmoid(realLogits)) as tf.Scalar,
      dFake: tf.mean(tf.sigmoid(fakeLogits)) as tf.Scalar,
      diversity: diversityRatio(fake, batch.x),
    };
  }

  /**
   * Mode-collapse warning from the validation diversity (the training one without validation),
   * compared with the best of the earlier epochs of this process (not kept across a resume).
   */
  epochWarnings(epoch: { train: Record<string, number>; validation: Record<string, number> }): string[] {
    const diversity = epoch.validation.diversity ?? epoch.train['generator.diversity'];
    if (diversity === undefined || !Number.isFinite(diversity)) return [];
    const best = this.bestDiversity;
    this.bestDiversity = Math.max(best, diversity);
    if (best === 0 || diversity >= MODE_COLLAPSE_DROP * best) return [];
    return [
      `possible mode collapse: generated images are ${diversity.toFixed(2)}x as diverse as real ones (mean pairwise distance), down from ${best.toFixed(2)}. ` +
        'Look at the sample grid; common cures: a lower learning rate, Adam beta1 0.5 (the DCGAN recipe), a smaller discriminator.',
    ];
  }

  dispose(): void {
    for (const part of Object.values(this.parts)) part.dispose();
  }
}

/** Registry entry of `dcgan`. */
export const dcganFamily: FamilyDefinition<DcganConfig> = {
  name: 'dcgan',
  description: 'DCGAN (PyTorch tutorial architecture scaled to the data), images in [-1, 1], mode-collapse warning.',
  configSchema: dcganConfigSchema,
  tinyConfig: { family: 'dcgan', latentSize: 8, generatorFeatures: 4, discriminatorFeatures: 4 },
  exportParts: ['generator', 'discriminator'],
  evaluation: { metrics: ['fid'], prior: 'standard-normal' },
  valueRange: 'symmetric',
  build: (config, shape, seed) => new Dcgan(config, shape, seed),
};
