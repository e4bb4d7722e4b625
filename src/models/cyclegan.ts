/**
 * `cyclegan`: unpaired image-to-image translation between two domains (Zhu et al. 2017), e.g.
 * coloured MNIST tinted with the warm palette (domain A, the run's `data.dataset`) and with the cool
 * one (domain B, this family's `domainB` dataset spec).
 *
 * Parts: generatorAB and generatorBA (image -> translated), discriminatorA and discriminatorB
 * (image -> score map, PatchGAN). Two phases per step, each with its own Adam: the generators
 * (LSGAN adversarial + lambdaCycle * cycle L1 + lambdaCycle * lambdaIdentity * identity L1), then the
 * discriminators (LSGAN, halved as in the paper's code).
 *
 * Where we depart from the paper, and why: BatchNorm instead of InstanceNorm and zero ('same')
 * padding instead of reflection padding, because the ONNX converter (and tfjs-layers) have neither;
 * no history pool of 50 generated images (each step's discriminators see that step's fakes); and
 * defaults sized for 28x28 images (2 downsamplings, 6 residual blocks, the paper's 128x128 setting).
 *
 * Data: the trainer loads `domainB` with the run's seed, splits it like the main dataset, and hands
 * every step a batch of each domain (`TrainBatch.x` from A, `xB` from B) drawn by independent
 * shuffles, so the domains are never paired. Both must have the same image shape.
 */
import { z } from 'zod';
import { AekitError } from '../core/errors';
import { tf } from '../core/tfjs-backend';
import { datasetSpecSchema } from '../data/registry';
import type { DatasetSpec } from '../data/registry';
import { leastSquaresGanLoss, meanAbsoluteError } from './losses';
import { trainableVariables } from './ae';
import { DCGAN_INIT_STDDEV, ganBatchNorm } from './dcgan';
import { Initialisers, LEAKY_RELU_ALPHA, activate, downsampledSize, imageActivation, imageInput } from './layers';
import type { DataShape, FamilyDefinition, FamilyModel, LossTerms, PartIoNames, PartName, StepContext, TrainBatch, TrainingPhase } from './types';

/** Cap on the PatchGAN discriminator's channel multiplier (pix2pix's min(2^n, 8)). */
const PATCH_GAN_MAX_MULTIPLIER = 8;

/** Architecture config of `cyclegan` (defaults filled in by parsing). */
export const cycleganConfigSchema = z.object({
  family: z.literal('cyclegan'),
  /** Dataset of domain B (domain A is the run's data.dataset); same image shape required. */
  domainB: datasetSpecSchema,
  /** Feature maps of the generators' first layer (the paper's ngf = 64). */
  filters: z.number().int().positive().default(32),
  /** Stride-2 down (and up) convolutions of each generator. */
  downsamplings: z.number().int().min(0).default(2),
  /** Residual blocks at the lowest resolution (paper: 6 for 128x128, 9 for 256x256). */
  residualBlocks: z.number().int().min(0).default(6),
  /** Feature maps of the discriminators' first layer (ndf = 64). */
  discriminatorFilters: z.number().int().positive().default(64),
  /** Stride-2 convolutions of each PatchGAN discriminator (pix2pix's n_layers = 3). */
  discriminatorLayers: z.number().int().positive().default(3),
  /** Weight of the cycle-consistency L1 terms (paper: 10). */
  lambdaCycle: z.number().min(0).default(10),
  /** Weight of the identity L1 terms relative to lambdaCycle (paper's code: 0.5; 0 disables). */
  lambdaIdentity: z.number().min(0).default(0.5),
});
/** Resolved config of `cyclegan`. */
export type CycleganConfig = z.output<typeof cycleganConfigSchema>;

/** Translation direction. */
export type Direction = 'AB' | 'BA';

/** Two generators and two PatchGAN discriminators. */
export class CycleGan implements FamilyModel<CycleganConfig> {
  readonly parts: { generatorAB: tf.LayersModel; generatorBA: tf.LayersModel; discriminatorA: tf.LayersModel; discriminatorB: tf.LayersModel };
  readonly phases: readonly TrainingPhase[];
  readonly ioNames: Partial<Record<PartName, PartIoNames>> = {
    generatorAB: { inputs: ['image'], outputs: ['translated'] },
    generatorBA: { inputs: ['image'], outputs: ['translated'] },
    discriminatorA: { inputs: ['image'], outputs: ['score'] },
    discriminatorB: { inputs: ['image'], outputs: ['score'] },
  };
  readonly conditional = false;
  readonly domainB: DatasetSpec;

  constructor(
    readonly config: CycleganConfig,
    readonly shape: DataShape,
    seed: number,
  ) {
    this.domainB = config.domainB;
    downsampledSize(shape, config.downsamplings, 'model.downsamplings');
    const init = new Initialisers(seed, config.family);
    this.parts = {
      generatorAB: this.buildGenerator(init, 'generatorAB'),
      generatorBA: this.buildGenerator(init, 'generatorBA'),
      discriminatorA: this.buildDiscriminator(init, 'discriminatorA'),
      discriminatorB: this.buildDiscriminator(init, 'discriminatorB'),
    };
    const { generatorAB, generatorBA, discriminatorA, discriminatorB } = this.parts;
    this.phases = [
      { name: 'generators', variables: () => trainableVariables(generatorAB, generatorBA), loss: (batch) => this.generatorLoss(batch) },
      { name: 'discriminators', variables: () => trainableVariables(discriminatorA, discriminatorB), loss: (batch) => this.discriminatorLoss(batch) },
    ];
  }

  private conv(x: tf.SymbolicTensor, filters: number, kernelSize: number, strides: number, init: Initialisers, name: string): tf.SymbolicTensor {
    return tf.layers
      .conv2d({ filters, kernelSize, strides, padding: 'same', kernelInitializer: init.normal(0, DCGAN_INIT_STDDEV), name })
      .apply(x) as tf.SymbolicTensor;
  }

  private normRelu(x: tf.SymbolicTensor, init: Initialisers, name: string): tf.SymbolicTensor {
    return activate(ganBatchNorm(init, `${name}_bn`).apply(x) as tf.SymbolicTensor, 'relu', `${name}_relu`);
  }

  /** ResNet generator (Johnson et al. 2016): c7s1-f, d2f.., R.., u.., c7s1-C. */
  private buildGenerator(init: Initialisers, name: string): tf.LayersModel {
    const { filters, downsamplings, residualBlocks } = this.config;
    const image = imageInput(this.shape);
    let h = this.normRelu(this.conv(image, filters, 7, 1, init, `${name}_in`), init, `${name}_in`);
    let maps = filters;
    for (let i = 0; i < downsamplings; i++) {
      maps *= 2;
      h = this.normRelu(this.conv(h, maps, 3, 2, init, `${name}_down${i}`), init, `${name}_down${i}`);
    }
    for (let r = 0; r < residualBlocks; r++) {
      const inner = this.normRelu(this.conv(h, maps, 3, 1, init, `${name}_res${r}a`), init, `${name}_res${r}a`);
      const out = ganBatchNorm(init, `${name}_res${r}b_bn`).apply(this.conv(inner, maps, 3, 1, init, `${name}_res${r}b`)) as tf.SymbolicTensor;
      h = tf.layers.add({ name: `${name}_res${r}_add` }).apply([h, out]) as tf.SymbolicTensor;
    }
    for (let i = 0; i < downsamplings; i++) {
      maps /= 2;
      h = tf.layers
        .conv2dTranspose({ filters: maps, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init.normal(0, DCGAN_INIT_STDDEV), name: `${name}_up${i}` })
        .apply(h) as tf.SymbolicTensor;
      h = this.normRelu(h, init, `${name}_up${i}`);
    }
    const out = activate(this.conv(h, this.shape.channels, 7, 1, init, `${name}_out`), imageActivation(this.shape), `${name}_out_act`);
    return tf.model({ inputs: image, outputs: out, name });
  }

  /** PatchGAN (pix2pix): C64 (no norm), C128.., one stride-1 block, then a 1-channel score map. */
  private buildDiscriminator(init: Initialisers, name: string): tf.LayersModel {
    const { discriminatorFilters: ndf, discriminatorLayers: n } = this.config;
    const image = imageInput(this.shape);
    let h = image;
    for (let i = 0; i <= n; i++) {
      const maps = ndf * Math.min(2 ** i, PATCH_GAN_MAX_MULTIPLIER);
      h = this.conv(h, maps, 4, i < n ? 2 : 1, init, `${name}_conv${i}`);
      if (i > 0) h = ganBatchNorm(init, `${name}_bn${i}`).apply(h) as tf.SymbolicTensor;
      h = tf.layers.leakyReLU({ alpha: LEAKY_RELU_ALPHA, name: `${name}_act${i}` }).apply(h) as tf.SymbolicTensor;
    }
    const score = this.conv(h, 1, 4, 1, init, `${name}_score`);
    return tf.model({ inputs: image, outputs: score, name });
  }

  private domains(batch: TrainBatch): [tf.Tensor4D, tf.Tensor4D] {
    if (!batch.xB) {
      throw new AekitError('BAD_ARGUMENT', 'cyclegan needs a batch of each domain (TrainBatch.xB); the trainer fills it from model.domainB', { where: 'cyclegan' });
    }
    return [batch.x, batch.xB];
  }

  /** Adversarial, cycle and identity terms of the generators. */
  private generatorTerms(batch: TrainBatch, training: boolean): Record<string, tf.Scalar> {
    const [a, b] = this.domains(batch);
    const { generatorAB, generatorBA, discriminatorA, discriminatorB } = this.parts;
    const g = (model: tf.LayersModel, x: tf.Tensor) => model.apply(x, { training }) as tf.Tensor4D;
    const fakeB = g(generatorAB, a);
    const fakeA = g(generatorBA, b);
    const adversarial = tf.add(leastSquaresGanLoss(g(discriminatorB, fakeB), 1), leastSquaresGanLoss(g(discriminatorA, fakeA), 1)) as tf.Scalar;
    const cycle = tf.add(meanAbsoluteError(a, g(generatorBA, fakeB)), meanAbsoluteError(b, g(generatorAB, fakeA))) as tf.Scalar;
    const terms: Record<string, tf.Scalar> = { adversarial, cycle };
    let total = tf.add(adversarial, tf.mul(this.config.lambdaCycle, cycle)) as tf.Scalar;
    if (this.config.lambdaIdentity > 0) {
      terms.identity = tf.add(meanAbsoluteError(b, g(generatorAB, b)), meanAbsoluteError(a, g(generatorBA, a))) as tf.Scalar;
      total = tf.add(total, tf.mul(this.config.lambdaCycle * this.config.lambdaIdentity, terms.identity)) as tf.Scalar;
    }
    return { total, ...terms };
  }

  /** LSGAN terms of both discriminators on real images and this step's translations. */
  private discriminatorTerms(batch: TrainBatch, training: boolean): Record<string, tf.Scalar> {
    const [a, b] = this.domains(batch);
    const { generatorAB, generatorBA, discriminatorA, discriminatorB } = this.parts;
    const fakeB = generatorAB.apply(a, { training }) as tf.Tensor4D;
    const fakeA = generatorBA.apply(b, { training }) as tf.Tensor4D;
    const lsgan = (d: tf.LayersModel, real: tf.Tensor, fake: tf.Tensor) =>
      tf.mul(0.5, tf.add(leastSquaresGanLoss(d.apply(real, { training }) as tf.Tensor, 1), leastSquaresGanLoss(d.apply(fake, { training }) as tf.Tensor, 0))) as tf.Scalar;
    const discriminatorALoss = lsgan(discriminatorA, a, fakeA);
    const discriminatorBLoss = lsgan(discriminatorB, b, fakeB);
    return { total: tf.add(discriminatorALoss, discriminatorBLoss) as tf.Scalar, discriminatorA: discriminatorALoss, discriminatorB: discriminatorBLoss };
  }

  private generatorLoss(batch: TrainBatch): LossTerms {
    const terms = this.generatorTerms(batch, true);
    return { total: terms.total, terms };
  }

  private discriminatorLoss(batch: TrainBatch): LossTerms {
    const terms = this.discriminatorTerms(batch, true);
    return { total: terms.total, terms };
  }

  /** Translate images of domain A to B ('AB') or B to A ('BA'). */
  translate(x: tf.Tensor4D, direction: Direction): tf.Tensor4D {
    return (direction === 'AB' ? this.parts.generatorAB : this.parts.generatorBA).apply(x, { training: false }) as tf.Tensor4D;
  }

  /** The run's sample grid: images of A, their A -> B translations, images of B, their B -> A translations. */
  sampleRows(batch: TrainBatch): tf.Tensor4D[] {
    const [a, b] = this.domains(batch);
    return [a, this.translate(a, 'AB'), b, this.translate(b, 'BA')];
  }

  /** Generator terms (cycle L1 is the reconstruction quality) and discriminator losses on held-out images. */
  evaluateBatch(batch: TrainBatch, _ctx: StepContext): Record<string, tf.Scalar> {
    const generator = this.generatorTerms(batch, false);
    const discriminator = this.discriminatorTerms(batch, false);
    return {
      generators: generator.total,
      cycle: generator.cycle,
      adversarial: generator.adversarial,
      ...(generator.identity ? { identity: generator.identity } : {}),
      discriminators: discriminator.total,
    };
  }

  dispose(): void {
    for (const part of Object.values(this.parts)) part.dispose();
  }
}

/** Registry entry of `cyclegan`. */
export const cycleganFamily: FamilyDefinition<CycleganConfig> = {
  name: 'cyclegan',
  description: 'CycleGAN: two ResNet generators and two PatchGAN discriminators, LSGAN + cycle (+ identity) losses, between data.dataset and model.domainB.',
  configSchema: cycleganConfigSchema,
  tinyConfig: {
    family: 'cyclegan',
    domainB: { name: 'colored-mnist', colors: 'cool' },
    filters: 4,
    downsamplings: 1,
    residualBlocks: 1,
    discriminatorFilters: 4,
    discriminatorLayers: 1,
  },
  exportParts: ['generatorAB', 'generatorBA', 'discriminatorA', 'discriminatorB'],
  evaluation: { metrics: ['translation'] },
  build: (config, shape, seed) => new CycleGan(config, shape, seed),
};
