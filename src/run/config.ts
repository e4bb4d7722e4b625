/**
 * Run config: what `aekit train` reads from `--config x.json` and flags, resolved with defaults and
 * written in full to `runs/<name>/config.json`. Architecture (`model`) is kept apart from the run
 * settings (`data`, `train`), as nanoGPT does, so a recipe can swap one without the other.
 */
import { z } from 'zod';
import { AekitError } from '../core/errors';
import { TFJS_BACKENDS } from '../core/tfjs-backend';
import { ORT_SESSION_RUNTIMES } from '../artifact/runtime';
import { datasetSpecSchema } from '../data';
import { getFamily } from '../models';
import type { BaseModelConfig } from '../models';

/** Engines a run can train with (src/train/engines); 'auto' picks one per model (see `resolveEngine`). */
export const ENGINE_NAMES = ['tfjs', 'ort'] as const;
/** See {@link ENGINE_NAMES}. */
export type EngineName = (typeof ENGINE_NAMES)[number];
/** Values of the `train.engine` config field and the `--engine` flag. */
export const ENGINE_CHOICES = [...ENGINE_NAMES, 'auto'] as const;
/** See {@link ENGINE_CHOICES}. */
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export const trainSettingsSchema = z.object({
  epochs: z.number().int().positive().default(10),
  batchSize: z.number().int().positive().default(128),
  learningRate: z.number().positive().default(1e-3),
  /** Exponential schedule: lr = learningRate * lrDecay^epoch (1 = constant). */
  lrDecay: z.number().gt(0).lte(1).default(1),
  adam: z
    .object({ beta1: z.number().min(0).lt(1).default(0.9), beta2: z.number().min(0).lt(1).default(0.999), epsilon: z.number().positive().default(1e-8) })
    .prefault({}),
  /** Clip gradients to this global L2 norm (off when absent). */
  clipNorm: z.number().positive().optional(),
  /** KL weight of the VAE families. */
  beta: z.number().min(0).default(1),
  /** Linear KL warm-up from 0 to `beta` over this many epochs (fractional allowed), a cure for KL vanishing. */
  betaWarmupEpochs: z.number().min(0).default(0),
  seed: z.number().int().min(0).default(0),
  /** Save a checkpoint every N epochs (and always at the end). */
  checkpointEvery: z.number().int().positive().default(1),
  backend: z.enum([...TFJS_BACKENDS, 'auto']).default('auto'),
  /**
   * Training engine: tfjs autodiff, the ONNX step on onnxruntime ('ort'), or 'auto' (the default:
   * ort wherever it can train the model, 9-16x faster on CPU; see src/train/engines).
   */
  engine: z.enum(ENGINE_CHOICES).default('auto'),
  /** Threads of engine 'ort' (onnxruntime intra-op threads); default one per physical core. */
  ortThreads: z.number().int().positive().optional(),
  /** Runtime of engine 'ort' (src/export/runtimes.ts): onnxruntime-node's CPU, CUDA or WebGPU provider, or onnxruntime-web's wasm. */
  ortRuntime: z.enum(ORT_SESSION_RUNTIMES).default('ort-node-cpu'),
  /** Cap on steps per epoch (train on a slice of the data). */
  stepsPerEpoch: z.number().int().positive().optional(),
  /** Write a step line to metrics.jsonl every N steps. */
  logEvery: z.number().int().positive().default(20),
  /** Fraction of the training split held out for validation (0 disables). */
  validationFraction: z.number().min(0).lt(1).default(0.1),
  /**
   * Fraction of the training split held out as a test split that training and validation never
   * see (`aekit sweep` uses 0.1 with validationFraction 0.1 for its 80/10/10 split); 0 disables.
   */
  testFraction: z.number().min(0).lt(1).default(0),
  /** Cap on validation images evaluated per epoch. */
  validationLimit: z.number().int().positive().default(2000),
});
export type TrainSettings = z.output<typeof trainSettingsSchema>;

export const dataSettingsSchema = z.object({
  dataset: datasetSpecSchema,
  /** Range of the values the model sees and produces; recorded with every artifact. */
  valueRange: z.enum(['unit', 'symmetric']).default('unit'),
});
export type DataSettings = z.output<typeof dataSettingsSchema>;

const runConfigBaseSchema = z.object({
  /** Run name: the folder `<outDir>/<name>`. */
  name: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash and underscore only'),
  outDir: z.string().default('runs'),
  model: z.looseObject({ family: z.string() }),
  data: dataSettingsSchema,
  train: trainSettingsSchema.prefault({}),
});

/** A fully resolved run config. */
export interface RunConfig extends Omit<z.output<typeof runConfigBaseSchema>, 'model'> {
  model: BaseModelConfig & Record<string, unknown>;
}

/** What a user may write: every default can be left out. */
export type RunConfigInput = z.input<typeof runConfigBaseSchema>;

function formatIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => `${[prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Validate and resolve a run config: the run settings by their schema and `model` by its family's
 * schema (a registry lookup). Errors name the field, e.g. `model.latentSize: expected number`.
 */
export function resolveRunConfig(input: unknown, where = 'config'): RunConfig {
  const base = runConfigBaseSchema.safeParse(input);
  if (!base.success) throw new AekitError('BAD_CONFIG', formatIssues(base.error), { where });
  const family = getFamily(base.data.model.family);
  const model = family.configSchema.safeParse(base.data.model);
  if (!model.success) throw new AekitError('BAD_CONFIG', formatIssues(model.error, 'model'), { where });
  const unknownKeys = Object.keys(base.data.model).filter((key) => !(key in (model.data as object)));
  if (unknownKeys.length > 0) {
    throw new AekitError('BAD_CONFIG', `unknown field(s) for family '${family.name}': ${unknownKeys.map((k) => `model.${k}`).join(', ')}`, { where });
  }
  const config: RunConfig = { ...base.data, model: model.data as BaseModelConfig & Record<string, unknown> };
  if (config.train.validationFraction + config.train.testFraction >= 1) {
    throw new AekitError('BAD_CONFIG', `train.validationFraction + train.testFraction must be below 1, got ${config.train.validationFraction} + ${config.train.testFraction}`, { where });
  }
  const reconstruction = (config.model as { reconstruction?: string }).reconstruction;
  if (reconstruction === 'bce' && config.data.valueRange === 'symmetric') {
    throw new AekitError('BAD_CONFIG', "model.reconstruction 'bce' needs data.valueRange 'unit' ([0,1]); use 'mse' for [-1,1]", { where });
  }
  return config;
}
