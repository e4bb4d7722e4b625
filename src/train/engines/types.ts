/**
 * What the trainer needs from a training engine (./tfjs.ts, ./ort): run one optimisation step on
 * a batch, and hand the weights and optimizer state back in tfjs form (for validation, sample
 * grids and checkpoints). Everything else (data order, schedules, metrics, run folder, resume)
 * stays in the trainer, so every engine produces the same run folder and engine-independent
 * checkpoints.
 */
import type { Logger } from '../../core/log';
import type { OrtSessionRuntime } from '../../artifact/runtime';
import type { DataShape, FamilyModel, StepContext } from '../../models';
import type { AdamState } from '../../run/checkpoint';
import type { AdamSettings } from '../optim';
import type { EngineName, OrtParallel } from '../../run/config';

export { ENGINE_CHOICES, ENGINE_NAMES } from '../../run/config';
export type { EngineChoice, EngineName } from '../../run/config';

/** A batch as the data layer yields it: NHWC images in [0, 1] and class indices. */
export interface HostBatch {
  images: Float32Array;
  labels: Int32Array;
  size: number;
  /** The second domain's images (NHWC, [0, 1]) for families with `domainB` (cyclegan). */
  imagesB?: Float32Array;
}

/** Result of one step: logged values, or why the step was refused. */
export interface StepOutcome {
  /** Loss terms and gradient norms by name (prefixed `<phase>.` when a model has several phases). */
  terms: Record<string, number>;
  /**
   * Set when a loss term or a gradient norm was not finite, e.g. "loss term 'kl' is NaN". The
   * update of that phase was not applied, so the model still holds the last good weights.
   */
  nonFinite?: string;
  /** With `nonFinite`: the phases of this step whose updates were applied before it (e.g. a GAN's discriminator). */
  applied?: string[];
}

/** Everything an engine is built from. */
export interface EngineSetup {
  model: FamilyModel;
  shape: DataShape;
  batchSize: number;
  adam: AdamSettings;
  clipNorm?: number;
  /** onnxruntime intra-op threads (`train.ortThreads`); undefined: one per physical core. */
  threads?: number;
  /** How engine 'ort' spreads its threads (`train.ortParallel`); default 'auto'. */
  parallel?: OrtParallel;
  /** Where engine 'ort' runs (`train.ortRuntime`); default onnxruntime-node's CPU provider. */
  runtime?: OrtSessionRuntime;
  /** Optimizer state to continue from (resume), by phase name. */
  savedOptimizers: Record<string, AdamState>;
  logger: Logger;
}

/** A training engine. */
export interface TrainingEngine {
  readonly name: EngineName;
  /** Where and how it runs, for the start line (e.g. 'ort-node-webgpu, Adam in the graph'). */
  readonly detail?: string;
  /** One optimisation step of every phase of the model on `batch`. */
  step(batch: HostBatch, ctx: StepContext, learningRate: number): Promise<StepOutcome>;
  /** Make the tfjs model hold the engine's current weights (before validation, samples, checkpoints). */
  syncModel(): Promise<void>;
  /** Optimizer state of every phase, moments in the order of the phase's variables. */
  optimizerStates(): Promise<{ phase: string; state: AdamState }[]>;
  dispose(): Promise<void>;
}
