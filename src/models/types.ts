/**
 * What a model family is. A family = an architecture config (a zod schema with defaults) + a model
 * class that builds tfjs-layers parts and says how to train them (pythae's shape). A variant
 * extends its parent and overrides only what differs (e.g. `dae` extends `ae` with input noise).
 */
import type { z } from 'zod';
import type { tf } from '../core/tfjs-backend';
import type { DatasetSpec } from '../data/registry';
import type { ValueRange } from '../data/types';

/**
 * Named sub-networks that are exported as separate ONNX artifacts. The last four are CycleGAN's
 * (one generator and one discriminator per translation direction / image domain).
 */
export const PART_NAMES = [
  'encoder',
  'decoder',
  'generator',
  'discriminator',
  'classifier',
  'generatorAB',
  'generatorBA',
  'discriminatorA',
  'discriminatorB',
] as const;
/** See {@link PART_NAMES}. */
export type PartName = (typeof PART_NAMES)[number];

/** The shape of the data a model is built for. */
export interface DataShape {
  height: number;
  width: number;
  channels: number;
  /** Number of classes of the dataset's labels (used by conditional models and classifiers). */
  numClasses: number;
  /** Value range of images fed to and produced by the model. */
  valueRange: ValueRange;
}

/** A batch as the trainer hands it to a family: tensors live only inside the step's tidy scope. */
export interface TrainBatch {
  /** Images NHWC, already in the model's value range. */
  x: tf.Tensor4D;
  /** Class indices. */
  labels: tf.Tensor1D;
  /** One-hot labels [B, numClasses] (zeros when the dataset is unlabelled). */
  oneHot: tf.Tensor2D;
  size: number;
  /**
   * Images of the second domain (NHWC, same image shape and value range as `x`), present only
   * for families with a {@link FamilyModel.domainB} (unpaired translation, e.g. cyclegan). Drawn
   * independently of `x` (own shuffle), so the two domains are never paired.
   */
  xB?: tf.Tensor4D;
}

/** Per-step context: everything random in a step is seeded from `seed`, so resumed runs replay it. */
export interface StepContext {
  step: number;
  epoch: number;
  /** Seed for this step's random ops (noise, reparameterisation). */
  seed: number;
  /** KL weight after warm-up, for the families that have one. */
  beta: number;
}

/** Loss of one phase: `total` is minimised; `terms` are logged (total included). */
export interface LossTerms {
  total: tf.Scalar;
  terms: Record<string, tf.Scalar>;
}

/**
 * One optimisation phase of a training step. Autoencoders have one; GANs have a discriminator
 * phase and a generator phase, each with its own optimizer over its own variables.
 */
export interface TrainingPhase {
  name: string;
  variables(): tf.Variable[];
  loss(batch: TrainBatch, ctx: StepContext): LossTerms;
}

/** Input and output names of a part, in the order of the tfjs model's inputs and outputs. */
export interface PartIoNames {
  inputs: string[];
  outputs: string[];
}

/** Common fields of every architecture config. */
export interface BaseModelConfig {
  family: string;
}

/** A built model: its parts, how to train them, and what it can do at inference. */
export interface FamilyModel<C extends BaseModelConfig = BaseModelConfig> {
  readonly config: C;
  readonly shape: DataShape;
  readonly parts: Partial<Record<PartName, tf.LayersModel>>;
  /** Names of each part's inputs and outputs in exported artifacts (e.g. decoder: z -> image). */
  readonly ioNames: Partial<Record<PartName, PartIoNames>>;
  /** The optimisation phases of one training step, in order. */
  readonly phases: readonly TrainingPhase[];
  /** Size of the latent code that `decode` takes (undefined for classifiers). */
  readonly latentSize?: number;
  /** True when `decode`/`encode` also take a label. */
  readonly conditional: boolean;
  /** Deterministic codes for images (the mean for VAEs). */
  encode?(x: tf.Tensor4D, oneHot?: tf.Tensor2D): tf.Tensor2D;
  /** Images (NHWC, in the value range) for latent codes. */
  decode?(z: tf.Tensor2D, oneHot?: tf.Tensor2D): tf.Tensor4D;
  /** Codes drawn from the model's prior (or fitted latent distribution). */
  samplePrior?(n: number, seed: number): tf.Tensor2D;
  /** Metrics computed on held-out data at the end of an epoch (e.g. accuracy, ELBO terms). */
  evaluateBatch?(batch: TrainBatch, ctx: StepContext): Record<string, tf.Scalar>;
  /**
   * Dataset of a second image domain (unpaired translation). When set, the trainer loads it like
   * the run's dataset (same seed and validation split) and fills `TrainBatch.xB` at every step.
   */
  readonly domainB?: DatasetSpec;
  /**
   * Rows of the per-epoch sample grid for a family without `decode` (cyclegan: A, A -> B, B,
   * B -> A), each [n, H, W, C] in the value range; `batch` holds the first validation images.
   */
  sampleRows?(batch: TrainBatch): tf.Tensor4D[];
  /** Warnings about a finished epoch's metrics (e.g. GAN mode collapse); the trainer logs them. */
  epochWarnings?(epoch: { train: Record<string, number>; validation: Record<string, number> }): string[];
  dispose(): void;
}

/**
 * Evaluation metrics (src/eval) that can apply to a family's artifacts:
 * - 'reconstruction': SSIM / PSNR / pixel error of decode(encode(x)) (the encoder's `code` or `mu`
 *   output is the decoder's whole input);
 * - 'elbo': ELBO / importance-weighted bound of a Gaussian encoder (outputs exactly mu, logvar);
 * - 'fid': FID of images decoded from codes drawn as {@link FamilyEvaluation.prior} says;
 * - 'latent-classifiers': classifiers trained on the encoder's codes vs on pixels;
 * - 'accuracy': top-1 accuracy of a classifier artifact;
 * - 'translation': SSIM and PSNR of the cycles A -> B -> A and B -> A -> B on each domain's test
 *   images (unpaired translation: cyclegan; the artifacts generatorAB and generatorBA).
 */
export const FAMILY_EVAL_METRICS = ['reconstruction', 'elbo', 'fid', 'latent-classifiers', 'accuracy', 'translation'] as const;
/** See {@link FAMILY_EVAL_METRICS}. */
export type FamilyEvalMetric = (typeof FAMILY_EVAL_METRICS)[number];

/**
 * How codes are drawn to sample a family's decoder or generator:
 * - 'standard-normal': N(0, I) of size latentSize (VAEs, GANs);
 * - 'fitted-gaussian': a Gaussian fitted to the codes of training images (deterministic AEs);
 * - 'uniform-categorical': N one-hot groups of K classes, each class equally likely (the layout,
 *   `categorical.variables` x `categorical.classes`, is in the run's model config);
 * - 'gaussian-and-categorical': N(0, I) of the config's `latentSize`, then the categorical part.
 */
export const SAMPLE_PRIORS = ['standard-normal', 'fitted-gaussian', 'uniform-categorical', 'gaussian-and-categorical'] as const;
/** See {@link SAMPLE_PRIORS}. */
export type SamplePrior = (typeof SAMPLE_PRIORS)[number];

/** What evaluation applies to a family (read by src/eval through the registry, never a second list of families). */
export interface FamilyEvaluation {
  readonly metrics: readonly FamilyEvalMetric[];
  /** How to draw decoder/generator inputs; absent for families that cannot sample (classifier, cyclegan). */
  readonly prior?: SamplePrior;
}

/** A registered family: its key, config schema and builder. */
export interface FamilyDefinition<C extends BaseModelConfig = BaseModelConfig> {
  /** Registry key; equals the config's `family` and the file name. */
  readonly name: string;
  readonly description: string;
  /** Architecture config schema (input may omit defaults; output is fully resolved). */
  readonly configSchema: z.ZodType<C>;
  /** A tiny architecture (config input) for the shared family tests and smoke runs. */
  readonly tinyConfig: Record<string, unknown>;
  /** Parts that `aekit export --part all` writes. */
  readonly exportParts: readonly PartName[];
  /** The evaluation metrics that apply to its artifacts and how to sample it (the shared checklist checks both). */
  readonly evaluation: FamilyEvaluation;
  /** The value range the family needs (e.g. DCGAN's tanh generator: 'symmetric'); absent = either. */
  readonly valueRange?: ValueRange;
  /**
   * True when the family learns from class labels (a conditional model, a classifier): it needs
   * labelled data of at least two classes, and a run refuses a flat folder or a single class
   * before training starts (`checkRunData` in src/run). Absent = labels are not needed.
   */
  readonly needsLabels?: boolean;
  /** Build a fresh model with seeded initialisers. */
  build(config: C, shape: DataShape, seed: number): FamilyModel<C>;
}
