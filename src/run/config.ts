/**
 * Run config: what `aekit train` reads from `--config x.json` and flags, resolved with defaults and
 * written in full to `runs/<name>/config.json`. Architecture (`model`) is kept apart from the run
 * settings (`data`, `train`), as nanoGPT does, so a recipe can swap one without the other.
 */
import { z } from 'zod';
import { AekitError } from '../core/errors';
import { didYouMean } from '../core/suggest';
import { TFJS_BACKENDS } from '../core/tfjs-backend';
import { ORT_SESSION_RUNTIMES } from '../artifact/runtime';
import { datasetSpecSchema } from '../data';
import { familyNames, getFamily } from '../models';
import type { BaseModelConfig } from '../models';

/** Engines a run can train with (src/train/engines); 'auto' picks one per model (see `resolveEngine`). */
export const ENGINE_NAMES = ['tfjs', 'ort'] as const;
/** See {@link ENGINE_NAMES}. */
export type EngineName = (typeof ENGINE_NAMES)[number];
/** Values of the `train.engine` config field and the `--engine` flag. */
export const ENGINE_CHOICES = [...ENGINE_NAMES, 'auto'] as const;
/** See {@link ENGINE_CHOICES}. */
export type EngineChoice = (typeof ENGINE_CHOICES)[number];
/**
 * How engine 'ort' uses several threads (`train.ortParallel`): 'intra-op' gives every thread to
 * onnxruntime's operators; 'batch' splits each batch into shards that run at the same time, each
 * on threads of its own (src/train/engines/ort/shards.ts); 'auto' picks 'batch' for convolutional
 * models whose loss allows it, else 'intra-op'.
 */
export const ORT_PARALLEL_MODES = ['auto', 'intra-op', 'batch'] as const;
/** See {@link ORT_PARALLEL_MODES}. */
export type OrtParallel = (typeof ORT_PARALLEL_MODES)[number];

// Every level is strict: a misspelt key (`learnigRate`, `valuRange`) is an error with a
// did-you-mean, never a setting silently left at its default.
export const trainSettingsSchema = z.strictObject({
  epochs: z.number().int().positive().default(10),
  batchSize: z.number().int().positive().default(128),
  learningRate: z.number().positive().default(1e-3),
  /** Exponential schedule: lr = learningRate * lrDecay^epoch (1 = constant). */
  lrDecay: z.number().gt(0).lte(1).default(1),
  adam: z
    .strictObject({ beta1: z.number().min(0).lt(1).default(0.9), beta2: z.number().min(0).lt(1).default(0.999), epsilon: z.number().positive().default(1e-8) })
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
  /** How engine 'ort' spreads its threads (see {@link ORT_PARALLEL_MODES}). */
  ortParallel: z.enum(ORT_PARALLEL_MODES).default('auto'),
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

export const dataSettingsSchema = z.strictObject({
  dataset: datasetSpecSchema,
  /** Range of the values the model sees and produces; recorded with every artifact. */
  valueRange: z.enum(['unit', 'symmetric']).default('unit'),
});
export type DataSettings = z.output<typeof dataSettingsSchema>;

const runConfigBaseSchema = z.strictObject({
  /** Run name: the folder `<outDir>/<name>`. */
  name: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash and underscore only'),
  outDir: z.string().default('runs'),
  /** What the recipe is for (free text, kept in config.json). */
  description: z.string().optional(),
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

function formatIssues(error: z.ZodError, input: unknown, schema: z.ZodType, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const at = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      if (issue.code !== 'unrecognized_keys') return `${at || '(root)'}: ${issue.message}`;
      // Zod says only that a key is unknown: name it in full and the key it is closest to.
      const known = objectKeys(schemaAt(schema, issue.path, valueAt(input, issue.path)), valueAt(input, issue.path)) ?? [];
      return issue.keys.map((key) => unknownField(at, key, known)).join('; ');
    })
    .join('; ');
}

/**
 * `unknown field 'train.learnigRate'; did you mean 'train.learningRate'?`, or the fields there are
 * when none is close.
 */
function unknownField(at: string, key: string, known: readonly string[], context = ''): string {
  const full = (name: string) => [at, name].filter(Boolean).join('.');
  const hint =
    didYouMean(key, known, full) ||
    (at === '' ? misplaced(key) : '') ||
    (known.length > 0 ? `; the fields${at ? ` of '${at}'` : ''} are: ${known.join(', ')}` : '');
  return `unknown field '${full(key)}'${context}${hint}`;
}

/** A run setting written at the top level (`learningRate` for `train.learningRate`): where it goes. */
function misplaced(key: string): string {
  for (const [section, schema] of [['train', trainSettingsSchema], ['data', dataSettingsSchema]] as const) {
    const hint = didYouMean(key, Object.keys(schema.shape), (name) => `${section}.${name}`);
    if (hint) return hint;
  }
  return '';
}

/** The value at `keys` inside `input` (undefined where the path leaves the objects). */
function valueAt(input: unknown, keys: readonly PropertyKey[]): unknown {
  let at = input;
  for (const key of keys) at = typeof at === 'object' && at !== null ? (at as Record<PropertyKey, unknown>)[key] : undefined;
  return at;
}

/** The schema inside wrappers (defaults, optionals, pipes) that checks the value itself. */
function unwrap(schema: z.ZodType): z.ZodType {
  const def = schema.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
  if (def.innerType) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrap(def.in);
  return schema;
}

/** The object schema `value` is checked against: the schema itself, or the union option its discriminator picks. */
function objectSchema(schema: z.ZodType, value: unknown): z.ZodObject | undefined {
  const inner = unwrap(schema);
  const def = inner.def as { type: string; options?: z.ZodType[]; discriminator?: string };
  if (def.type === 'object') return inner as z.ZodObject;
  if (def.type === 'union' && def.discriminator && def.options) {
    const tag = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[def.discriminator] : undefined;
    for (const option of def.options) {
      const object = objectSchema(option, value);
      if (object?.shape[def.discriminator]?.safeParse(tag).success) return object;
    }
  }
  return undefined;
}

/** The keys an object schema knows, for a value it checks (undefined: not an object schema). */
function objectKeys(schema: z.ZodType | undefined, value: unknown): string[] | undefined {
  return schema ? Object.keys(objectSchema(schema, value)?.shape ?? {}) : undefined;
}

/** The schema that checks the value at `keys` inside `input` (undefined past the objects). */
function schemaAt(schema: z.ZodType, keys: readonly PropertyKey[], input: unknown): z.ZodType | undefined {
  let at: z.ZodType | undefined = schema;
  let value = input;
  for (const key of keys) {
    at = at ? (objectSchema(at, value)?.shape[String(key)] as z.ZodType | undefined) : undefined;
    value = valueAt(value, [key]);
  }
  return at;
}

/**
 * Why `dotted` (a `--set` key such as `train.learningRate`) names no field of a run config
 * `config`, or undefined when it does (or leads into a value no schema describes, such as a list).
 * Model fields are checked against the family `config.model.family` names, when it is known.
 */
export function unknownConfigField(config: unknown, dotted: string): string | undefined {
  const keys = dotted.split('.');
  const family = (valueAt(config, ['model', 'family']) as string | undefined) ?? '';
  let schema: z.ZodType | undefined = runConfigBaseSchema;
  let value = config;
  for (let i = 0; i < keys.length; i++) {
    if (i === 1 && keys[0] === 'model') {
      if (!familyNames().includes(family)) return undefined;
      schema = getFamily(family).configSchema;
    }
    const object = schema ? objectSchema(schema, value) : undefined;
    if (!object) return undefined;
    if (!(keys[i] in object.shape)) return unknownField(keys.slice(0, i).join('.'), keys[i], Object.keys(object.shape));
    schema = object.shape[keys[i]] as z.ZodType;
    value = valueAt(value, [keys[i]]);
  }
  return undefined;
}

/**
 * Validate and resolve a run config: the run settings by their schema and `model` by its family's
 * schema (a registry lookup). Errors name the field, e.g. `model.latentSize: expected number`.
 */
export function resolveRunConfig(input: unknown, where = 'config'): RunConfig {
  const base = runConfigBaseSchema.safeParse(input);
  if (!base.success) throw new AekitError('BAD_CONFIG', formatIssues(base.error, input, runConfigBaseSchema), { where });
  const family = getFamily(base.data.model.family);
  const model = family.configSchema.safeParse(base.data.model);
  if (!model.success) throw new AekitError('BAD_CONFIG', formatIssues(model.error, base.data.model, family.configSchema, 'model'), { where });
  const unknownKeys = Object.keys(base.data.model).filter((key) => !(key in (model.data as object)));
  if (unknownKeys.length > 0) {
    const known = objectKeys(family.configSchema, base.data.model) ?? [];
    throw new AekitError('BAD_CONFIG', unknownKeys.map((key) => unknownField('model', key, known, ` for family '${family.name}'`)).join('; '), { where });
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
