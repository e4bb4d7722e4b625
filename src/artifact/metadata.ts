/**
 * The metadata every aekit ONNX artifact carries in `metadata_props`, so that a server, an
 * evaluation or a web page can use the file without the run folder: what it is (family, part), how
 * to feed it (input names, shapes, layout, value range, label encoding), how to sample it (prior,
 * categorical layout) and where it came from.
 *
 * Each field is stored under `aekit.<field>` with a JSON-encoded value; other keys are left alone.
 *
 * Pure code (no Node imports): the browser module bundles it, so the web page validates metadata
 * with the same schemas as the server. Reading and writing ONNX bytes is ./onnx-io.ts (Node) and
 * ./metadata-bytes.ts (browser).
 */
// zod's tree-shakable build: the classic one adds ~750 KB to the browser bundle. Its English
// messages are configured once, so errors read as they do on the Node side.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { AekitError } from '../core/errors';
import { VALUE_RANGES } from '../data/types';
import type { ValueRange } from '../data/types';
import { SAMPLE_PRIORS } from '../models/types';
import type { SamplePrior } from '../models/types';

export { VALUE_RANGES };
export type { SamplePrior, ValueRange };

/** Prefix of every metadata key aekit writes. */
export const METADATA_KEY_PREFIX = 'aekit.';

/**
 * Layout of image tensors (rank 4) in every aekit artifact. tfjs computes in NHWC, but NCHW is
 * the ONNX convention (Conv, Resize, pooling are specified for it, and Triton/PyTorch users
 * expect it), so the converter permutes weights and keeps every image tensor NCHW end to end.
 */
export const ARTIFACT_IMAGE_LAYOUT = 'NCHW';

/** Layout names by tensor rank: N = batch, C = channels/features, L = sequence, H/W = spatial. */
export const LAYOUT_BY_RANK: Readonly<Record<number, TensorLayout>> = Object.freeze({
  1: 'N',
  2: 'NC',
  3: 'NLC',
  4: ARTIFACT_IMAGE_LAYOUT,
});

/** Layout of one artifact input or output; see {@link LAYOUT_BY_RANK}. */
export type TensorLayout = 'N' | 'NC' | 'NLC' | 'NCHW';

/** The name of the symbolic batch dimension. */
export const BATCH_DIM = 'batch';

/** An input or output of an artifact, as ONNX sees it (NCHW for images). */
export interface TensorSpec {
  name: string;
  /** Dimensions; {@link BATCH_DIM} first, other strings are further symbolic dimensions. */
  shape: (number | string)[];
  layout: TensorLayout;
  dtype: 'float32' | 'int32';
}

/** Which part of a model family an artifact is; free strings allowed for future families. */
export type ArtifactPart = 'encoder' | 'decoder' | 'generator' | 'discriminator' | 'classifier' | (string & {});

/** How a conditional model's label input is encoded. */
export interface LabelInput {
  /** Name of the artifact input carrying the label. */
  name: string;
  /** 'one-hot': float rows [B, numClasses]; 'index': class numbers (fed to an Embedding). */
  encoding: 'one-hot' | 'index';
}

/**
 * N categorical variables of K classes each (gumbel-vae, joint-vae). A decoder's input is the
 * Gaussian part (if any) followed by the N one-hot groups of K, so `latentSize - N*K` is Gaussian.
 */
export interface CategoricalLayout {
  variables: number;
  classes: number;
}

/** Image shape of an artifact's image input or output (channels first, as the tensors are). */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/**
 * Value range a feature network takes: the two of {@link VALUE_RANGES}, or 'byte' (0-255, what
 * TensorFlow-ported networks such as clean-fid's take).
 */
export const FEATURE_INPUT_RANGES = ['unit', 'symmetric', 'byte'] as const;
/** See {@link FEATURE_INPUT_RANGES}. */
export type FeatureInputRange = (typeof FEATURE_INPUT_RANGES)[number];

/**
 * How images reach a feature network's input size: 'bilinear' resizes them first (PyTorch's
 * `F.interpolate(mode='bilinear', align_corners=False)`: half-pixel centres, no antialiasing,
 * pytorch-fid's preprocessing); 'graph' feeds them at their own size to a graph that resizes
 * itself (its input has symbolic height and width); 'none' accepts only images of the input size.
 */
export const FEATURE_RESIZE_MODES = ['bilinear', 'graph', 'none'] as const;
/** See {@link FEATURE_RESIZE_MODES}. */
export type FeatureResize = (typeof FEATURE_RESIZE_MODES)[number];

/**
 * How a feature network (FID's and KID's: an aekit classifier, pytorch-fid's InceptionV3) is fed
 * and read: the preprocessing it was trained with, declared with the file so that scores computed
 * with it are comparable with those of the tool that made it.
 */
export interface FeatureExtraction {
  /** The output holding the feature vectors, [batch, d]. */
  output: string;
  /** The image input (NCHW); default: the first NCHW input. */
  input?: string;
  /** The image size the network takes; not needed with resize 'graph'. */
  size?: { height: number; width: number };
  resize: FeatureResize;
  range: FeatureInputRange;
  /** Grayscale images are replicated to the network's three channels (pytorch-fid's `convert('RGB')`). */
  grayToRgb: boolean;
}

/** Everything an aekit artifact says about itself. */
export interface ArtifactMetadata {
  aekitVersion: string;
  family: string;
  part: ArtifactPart;
  latentSize?: number;
  numClasses?: number;
  labelInput?: LabelInput;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  imageShape?: ImageShape;
  valueRange: ValueRange;
  /** Activation of the (first) output layer, e.g. 'sigmoid' for a decoder in [0, 1]. */
  outputActivation: string;
  /**
   * How the family draws decoder inputs (its registry entry's prior), written by export since
   * aekit 0.1. Artifacts from before that lack it; see `describeArtifact`'s `priorOf`.
   */
  prior?: SamplePrior;
  /** The categorical part of the latent code (gumbel-vae, joint-vae). */
  categorical?: CategoricalLayout;
  /** How a feature network is fed and read (see `describeArtifact`'s `features` for classifiers without it). */
  features?: FeatureExtraction;
  dataset: string;
  runId: string;
  /** ISO 8601 time of export. */
  createdAt: string;
  trainingMetrics?: Record<string, number>;
  extra?: Record<string, string>;
}

z.config(en());

const name = z.string().check(z.minLength(1));
const positiveInt = z.int().check(z.positive());

const tensorSpecSchema = z.object({
  name,
  shape: z.array(z.union([z.int().check(z.nonnegative()), name])),
  layout: z.enum(['N', 'NC', 'NLC', 'NCHW']),
  dtype: z.enum(['float32', 'int32']),
});

type FieldSchemas = { [K in keyof ArtifactMetadata]-?: z.ZodMiniType<NonNullable<ArtifactMetadata[K]>> };

const FIELD_SCHEMAS: FieldSchemas = {
  aekitVersion: name,
  family: name,
  part: name,
  latentSize: positiveInt,
  numClasses: positiveInt,
  labelInput: z.object({ name, encoding: z.enum(['one-hot', 'index']) }),
  inputs: z.array(tensorSpecSchema).check(z.minLength(1)),
  outputs: z.array(tensorSpecSchema).check(z.minLength(1)),
  imageShape: z.object({ channels: positiveInt, height: positiveInt, width: positiveInt }),
  valueRange: z.enum(Object.keys(VALUE_RANGES) as [ValueRange, ...ValueRange[]]),
  outputActivation: name,
  prior: z.enum(SAMPLE_PRIORS),
  categorical: z.object({ variables: positiveInt, classes: positiveInt }),
  features: z.object({
    output: name,
    input: z.optional(name),
    size: z.optional(z.object({ height: positiveInt, width: positiveInt })),
    resize: z.enum(FEATURE_RESIZE_MODES),
    range: z.enum(FEATURE_INPUT_RANGES),
    grayToRgb: z.boolean(),
  }),
  dataset: z.string(),
  runId: z.string(),
  createdAt: name,
  trainingMetrics: z.record(z.string(), z.number()),
  extra: z.record(z.string(), z.string()),
};

/** Fields every artifact must have; the others are optional. */
export const REQUIRED_METADATA_FIELDS: readonly (keyof ArtifactMetadata)[] = Object.freeze([
  'aekitVersion',
  'family',
  'part',
  'inputs',
  'outputs',
  'valueRange',
  'outputActivation',
  'dataset',
  'runId',
  'createdAt',
]);

/** Every metadata field, in the order they are written. */
export const METADATA_FIELDS = Object.freeze(Object.keys(FIELD_SCHEMAS) as (keyof ArtifactMetadata)[]);

/**
 * Check a metadata object field by field; throws naming `where` and the first bad field.
 * `code` lets the writer report a caller's mistake and the reader a bad file.
 */
export function validateMetadata(value: Record<string, unknown>, where: string, code: 'BAD_ARGUMENT' | 'BAD_DATA'): ArtifactMetadata {
  for (const field of REQUIRED_METADATA_FIELDS) {
    if (value[field] === undefined) {
      throw new AekitError(code, `missing required metadata key '${METADATA_KEY_PREFIX}${field}'`, { where });
    }
  }
  const out: Record<string, unknown> = {};
  for (const field of METADATA_FIELDS) {
    if (value[field] === undefined) continue;
    const result = FIELD_SCHEMAS[field].safeParse(value[field]);
    if (!result.success) {
      const issue = result.error.issues[0];
      const path = [field, ...issue.path.map(String)].join('.');
      throw new AekitError(code, `metadata key '${METADATA_KEY_PREFIX}${path}': ${issue.message}`, { where });
    }
    out[field] = result.data;
  }
  return out as unknown as ArtifactMetadata;
}

/**
 * The `aekit.*` fields of raw `metadata_props` entries, JSON-decoded but not validated.
 * @throws AekitError BAD_DATA naming the key when a value is not JSON.
 */
export function aekitFields(props: Iterable<{ key?: string | null; value?: string | null }>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const prop of props) {
    const key = prop.key ?? '';
    if (!key.startsWith(METADATA_KEY_PREFIX)) continue;
    try {
      out[key.slice(METADATA_KEY_PREFIX.length)] = JSON.parse(prop.value ?? '');
    } catch {
      throw new AekitError('BAD_DATA', `metadata key '${key}' is not valid JSON: ${prop.value}`, { where });
    }
  }
  return out;
}

/** The `metadata_props` entries (key, JSON value) of a metadata object, validated first. */
export function metadataEntries(metadata: ArtifactMetadata): { key: string; value: string }[] {
  const valid = validateMetadata(metadata as unknown as Record<string, unknown>, 'metadata', 'BAD_ARGUMENT');
  return METADATA_FIELDS.filter((f) => valid[f] !== undefined).map((f) => ({ key: `${METADATA_KEY_PREFIX}${f}`, value: JSON.stringify(valid[f]) }));
}
