/**
 * What a model family is. A family = an architecture config (a zod schema with defaults) + a model
 * class that builds tfjs-layers parts and says how to train them (pythae's shape). A variant
 * extends its parent and overrides only what differs (e.g. `dae` extends `ae` with input noise).
 */
import type { z } from 'zod';
import type { tf } from '../core/tfjs-backend';
import type { ValueRange } from '../data/types';

/** Named sub-networks that are exported as separate ONNX artifacts. */
export type PartName = 'encoder' | 'decoder' | 'generator' | 'discriminator' | 'classifier';

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
  dispose(): void;
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
  /** Build a fresh model with seeded initialisers. */
  build(config: C, shape: DataShape, seed: number): FamilyModel<C>;
}
