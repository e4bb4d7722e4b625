/**
 * ONNX bytes <-> models and their aekit metadata, in Node (onnx-proto). The browser reads the same
 * metadata with ./metadata-bytes.ts; both decode through ./metadata.ts's one schema.
 */
import { readFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import { AekitError } from '../core/errors';
import { aekitFields, metadataEntries, METADATA_KEY_PREFIX, validateMetadata } from './metadata';
import type { ArtifactMetadata, SamplePrior } from './metadata';
import { describeArtifact } from './info';
import type { ArtifactInfo } from './info';
import { familyNames, getFamily } from '../models';

/**
 * Serialise a model to a plain Uint8Array (a copy). protobufjs hands back a Node Buffer, which for
 * small messages is a view into a shared pool: callers that use `.buffer` would see other data.
 */
export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
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

/** The `metadata_props` entries for a metadata object (validated first). */
export function metadataProps(metadata: ArtifactMetadata): onnx.StringStringEntryProto[] {
  return metadataEntries(metadata).map((entry) => onnx.StringStringEntryProto.create(entry));
}

/**
 * Return a copy of an ONNX file with `metadata` written into its `metadata_props`; earlier
 * `aekit.*` keys are replaced, any other keys kept.
 */
export function writeMetadata(onnxBytes: Uint8Array, metadata: ArtifactMetadata): Uint8Array {
  const model = decodeModel(onnxBytes, '<bytes>');
  const kept = model.metadataProps.filter((p) => !(p.key ?? '').startsWith(METADATA_KEY_PREFIX));
  model.metadataProps = [...kept.map((p) => onnx.StringStringEntryProto.create(p)), ...metadataProps(metadata)];
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
  return validateMetadata(rawMetadata(source), where, 'BAD_DATA');
}

/**
 * The `aekit.*` fields of an artifact, JSON-decoded but not validated (verification and the
 * benchmark use them as hints and must also work on files written by other tools).
 */
export function rawMetadata(source: Uint8Array | string): Record<string, unknown> {
  const where = typeof source === 'string' ? source : '<bytes>';
  return rawMetadataOf(decodeModel(readSource(source), where), where);
}

/** {@link rawMetadata} of an already decoded model. */
export function rawMetadataOf(model: onnx.IModelProto, where: string): Record<string, unknown> {
  return aekitFields(model.metadataProps ?? [], where);
}

function readSource(source: Uint8Array | string): Uint8Array {
  if (typeof source !== 'string') return source;
  try {
    return readFileSync(source);
  } catch (error) {
    throw new AekitError('FILE_NOT_FOUND', `cannot read ONNX file: ${(error as Error).message}`, { where: source, cause: error });
  }
}

/**
 * The prior of a registered family (its registry entry), for artifacts written before export
 * recorded `aekit.prior`; undefined for a family this aekit does not know.
 */
export function registryPrior(family: string): SamplePrior | undefined {
  return familyNames().includes(family) ? getFamily(family).evaluation.prior : undefined;
}

/** {@link describeArtifact} in Node: older artifacts get their family's prior from the registry. */
export function artifactInfo(metadata: ArtifactMetadata, where?: string): ArtifactInfo {
  return describeArtifact(metadata, { priorOf: registryPrior, where });
}

/** Read an artifact's metadata (bytes or a path) and describe it. */
export function readArtifactInfo(source: Uint8Array | string): ArtifactInfo {
  return artifactInfo(readMetadata(source), typeof source === 'string' ? source : undefined);
}
