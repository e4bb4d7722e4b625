/**
 * The metadata every aekit ONNX artifact carries in `metadata_props`, so that a server or a web
 * page can use the file without the run folder: what it is (family, part), how to feed it
 * (input names, shapes, layout, value range, label encoding) and where it came from.
 *
 * Each field is stored under `aekit.<field>` with a JSON-encoded value; other keys are left alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { z } from 'zod';
import { AekitError } from '../core/errors';
import { encodeModel } from './onnx-graph';

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

/**
 * Pixel value ranges: 'unit' means images in [0, 1], 'symmetric' in [-1, 1] (the DCGAN
 * convention). Applies to image inputs and image outputs alike.
 */
export const VALUE_RANGES = Object.freeze({ unit: [0, 1], symmetric: [-1, 1] } as const);
/** See {@link VALUE_RANGES}. */
export type ValueRange = keyof typeof VALUE_RANGES;

/** How a conditional model's label input is encoded. */
export interface LabelInput {
  /** Name of the artifact input carrying the label. */
  name: string;
  /** 'one-hot': float rows [B, numClasses]; 'index': class numbers (fed to an Embedding). */
  encoding: 'one-hot' | 'index';
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
  imageShape?: { channels: number; height: number; width: number };
  valueRange: ValueRange;
  /** Activation of the (first) output layer, e.g. 'sigmoid' for a decoder in [0, 1]. */
  outputActivation: string;
  dataset: string;
  runId: string;
  /** ISO 8601 time of export. */
  createdAt: string;
  trainingMetrics?: Record<string, number>;
  extra?: Record<string, string>;
}

const tensorSpecSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.union([z.number().int().nonnegative(), z.string().min(1)])),
  layout: z.enum(['N', 'NC', 'NLC', 'NCHW']),
  dtype: z.enum(['float32', 'int32']),
});

type FieldSchemas = { [K in keyof ArtifactMetadata]-?: z.ZodType<NonNullable<ArtifactMetadata[K]>> };

const FIELD_SCHEMAS: FieldSchemas = {
  aekitVersion: z.string().min(1),
  family: z.string().min(1),
  part: z.string().min(1),
  latentSize: z.number().int().positive(),
  numClasses: z.number().int().positive(),
  labelInput: z.object({ name: z.string().min(1), encoding: z.enum(['one-hot', 'index']) }),
  inputs: z.array(tensorSpecSchema).min(1),
  outputs: z.array(tensorSpecSchema).min(1),
  imageShape: z.object({
    channels: z.number().int().positive(),
    height: z.number().int().positive(),
    width: z.number().int().positive(),
  }),
  valueRange: z.enum(['unit', 'symmetric']),
  outputActivation: z.string().min(1),
  dataset: z.string(),
  runId: z.string(),
  createdAt: z.string().min(1),
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

const FIELDS = Object.keys(FIELD_SCHEMAS) as (keyof ArtifactMetadata)[];

/** The version of aekit doing the export, from its package.json (same relative path from src/ and dist/). */
export function aekitVersion(): string {
  const parsed: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const version = typeof parsed === 'object' && parsed !== null ? (parsed as { version?: unknown }).version : undefined;
  return typeof version === 'string' ? version : '0.0.0';
}

/**
 * Check a metadata object field by field; throws naming `where` and the first bad field.
 * `code` lets the writer report a caller's mistake and the reader a bad file.
 */
export function validateMetadata(
  value: Record<string, unknown>,
  where: string,
  code: 'BAD_ARGUMENT' | 'BAD_DATA',
): ArtifactMetadata {
  for (const field of REQUIRED_METADATA_FIELDS) {
    if (value[field] === undefined) {
      throw new AekitError(code, `missing required metadata key '${METADATA_KEY_PREFIX}${field}'`, { where });
    }
  }
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) {
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

/** The `metadata_props` entries for a metadata object (validated first). */
export function metadataProps(metadata: ArtifactMetadata): onnx.IStringStringEntryProto[] {
  const valid = validateMetadata(metadata as unknown as Record<string, unknown>, 'metadata', 'BAD_ARGUMENT');
  return FIELDS.filter((f) => valid[f] !== undefined).map((f) => ({
    key: `${METADATA_KEY_PREFIX}${f}`,
    value: JSON.stringify(valid[f]),
  }));
}

/**
 * Return a copy of an ONNX file with `metadata` written into its `metadata_props`; earlier
 * `aekit.*` keys are replaced, any other keys kept.
 */
export function writeMetadata(onnxBytes: Uint8Array, metadata: ArtifactMetadata): Uint8Array {
  const model = decodeModel(onnxBytes, '<bytes>');
  const kept = model.metadataProps.filter((p) => !(p.key ?? '').startsWith(METADATA_KEY_PREFIX));
  model.metadataProps = [...kept, ...metadataProps(metadata)].map((p) => onnx.StringStringEntryProto.create(p));
  return encodeModel(model);
}

/**
 * Read and validate the metadata of an artifact given as bytes or a file path.
 *
 * onnxruntime-node 1.30 sessions expose only input/output metadata (names, types, shapes), not
 * the model's `metadata_props`, so the file is parsed with onnx-proto.
 */
export function readMetadata(source: Uint8Array | string): ArtifactMetadata {
  const where = typeof source === 'string' ? source : '<bytes>';
  const raw = rawMetadata(source);
  return validateMetadata(raw, where, 'BAD_DATA');
}

/**
 * The `aekit.*` fields of an artifact, JSON-decoded but not validated (verification uses them as
 * hints and must also work on files written by other tools).
 */
export function rawMetadata(source: Uint8Array | string): Record<string, unknown> {
  const where = typeof source === 'string' ? source : '<bytes>';
  return rawMetadataOf(decodeModel(readSource(source), where), where);
}

/** {@link rawMetadata} of an already decoded model. */
export function rawMetadataOf(model: onnx.IModelProto, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const prop of model.metadataProps ?? []) {
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

function readSource(source: Uint8Array | string): Uint8Array {
  if (typeof source !== 'string') return source;
  try {
    return readFileSync(source);
  } catch (error) {
    throw new AekitError('FILE_NOT_FOUND', `cannot read ONNX file: ${(error as Error).message}`, { where: source, cause: error });
  }
}

/** Parse ONNX bytes, with an error naming the file when they are not a model. */
export function decodeModel(bytes: Uint8Array, where: string): onnx.ModelProto {
  try {
    const model = onnx.ModelProto.decode(bytes);
    if (!model.graph) throw new Error('no graph');
    return model;
  } catch (error) {
    throw new AekitError('BAD_DATA', `not an ONNX model (${(error as Error).message})`, { where, cause: error });
  }
}
