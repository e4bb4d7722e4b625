/**
 * Which models a server offers: finds `.onnx` artifacts in the given files and folders, reads
 * their aekit metadata and groups the encoder and decoder of one run into one model, named by the
 * run id; a classifier is a model of its own. Every check that can fail does so here, at start-up,
 * naming the file.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { artifactInfo, readMetadata } from '../artifact/onnx-io';
import { summarizeClassifier, summarizeModel } from '../artifact/info';
import type { ArtifactInfo, ClassifierSummary, ModelSummary } from '../artifact/info';
import type { ArtifactMetadata, TensorSpec } from '../artifact/metadata';

/**
 * Artifact parts the server runs, by the role they play: decoders (and GAN generators, which are
 * decoders of N(0, I)), encoders and classifiers.
 */
export const SERVED_PARTS: Readonly<Record<string, ServedRole>> = Object.freeze({ decoder: 'decoder', generator: 'decoder', encoder: 'encoder', classifier: 'classifier' });
/** The role an artifact plays in a served model (see {@link SERVED_PARTS}). */
export type ServedRole = 'decoder' | 'encoder' | 'classifier';
/** Every role, in the order a model lists its artifacts. */
export const SERVED_ROLES: readonly ServedRole[] = Object.freeze(['decoder', 'encoder', 'classifier']);

/** One artifact of a served model. */
export interface ServedArtifact {
  role: ServedRole;
  file: string;
  bytes: Uint8Array;
  metadata: ArtifactMetadata;
  /** What the artifact is (the artifact layer's one description). */
  info: ArtifactInfo;
  /** Per input, the shape of one row (no batch dimension). */
  rowShapes: Record<string, number[]>;
  /** The image (encoder, classifier) or latent (decoder) input. */
  mainInput: string;
  /** The one-hot label input of a conditional artifact. */
  labelInput?: string;
}

/** A model around a latent code, as the API shows it: one run's decoder and/or encoder, and their facts (`canSample`: `/sample` is offered). */
export interface LatentModel extends ModelSummary {
  kind: 'latent';
  name: string;
  decoder?: ServedArtifact;
  encoder?: ServedArtifact;
  classifier?: undefined;
}

/** A classifier as the API shows it: one artifact, images in and class scores out, no latent code. */
export interface ClassifierModel extends ClassifierSummary {
  kind: 'classifier';
  name: string;
  classifier: ServedArtifact;
  decoder?: undefined;
  encoder?: undefined;
}

/** A model the server offers; `kind` says which operations it can have. */
export type ServedModel = LatentModel | ClassifierModel;

/** Model names are URL path segments: run ids with anything unusual replaced. */
export function modelName(runId: string, file: string): string {
  const cleaned = runId.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  return cleaned || path.basename(path.dirname(path.resolve(file)));
}

/** `.onnx` files given directly, in a folder, or one folder further down (`<dir>/<run>/decoder.onnx`). */
export async function findArtifactFiles(locations: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const location of locations) {
    let stat;
    try {
      stat = await fs.stat(location);
    } catch {
      throw new AekitError('FILE_NOT_FOUND', 'no such file or folder (expected a .onnx artifact or a folder of them)', { where: location });
    }
    if (stat.isFile()) {
      files.push(location);
      continue;
    }
    const found: string[] = [];
    for (const entry of await fs.readdir(location, { withFileTypes: true })) {
      const full = path.join(location, entry.name);
      if (entry.isFile() && entry.name.endsWith('.onnx')) found.push(full);
      else if (entry.isDirectory()) {
        for (const inner of await fs.readdir(full, { withFileTypes: true })) {
          if (inner.isFile() && inner.name.endsWith('.onnx')) found.push(path.join(full, inner.name));
        }
      }
    }
    if (found.length === 0) throw new AekitError('FILE_NOT_FOUND', 'no .onnx files in this folder or its subfolders', { where: location });
    files.push(...found.sort());
  }
  return files;
}

function rowShapes(specs: TensorSpec[], file: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const spec of specs) {
    const rest = spec.shape.slice(1);
    const symbolic = rest.find((d) => typeof d !== 'number');
    if (symbolic !== undefined) throw new AekitError('BAD_DATA', `input '${spec.name}' has a symbolic dimension '${symbolic}' besides the batch; the server needs fixed row shapes`, { where: file });
    out[spec.name] = rest as number[];
  }
  return out;
}

function artifact(role: ServedRole, file: string, bytes: Uint8Array, metadata: ArtifactMetadata): ServedArtifact {
  const info = artifactInfo(metadata, file);
  if (info.label && info.label.encoding !== 'one-hot') {
    throw new AekitError('BAD_DATA', `label encoding '${info.label.encoding}' is not supported by the server (expected 'one-hot')`, { where: file });
  }
  for (const spec of [...metadata.inputs, ...metadata.outputs]) {
    if (spec.dtype !== 'float32') throw new AekitError('BAD_DATA', `tensor '${spec.name}' is ${spec.dtype}; the server handles float32 tensors`, { where: file });
  }
  const main = role === 'decoder' ? info.latentInput?.name : info.imageInput;
  if (!main) {
    throw new AekitError('BAD_DATA', role === 'decoder' ? 'expected a [batch, latentSize] code input besides the label' : 'expected an NCHW image input', { where: file });
  }
  if (role === 'decoder' && !info.imageOutput) throw new AekitError('BAD_DATA', `decoder output '${metadata.outputs[0].name}' has layout ${metadata.outputs[0].layout}, expected NCHW images`, { where: file });
  if (role === 'classifier') summarizeClassifier(info, file);
  else summarizeModel(info, file);
  return { role, file, bytes, metadata, info, rowShapes: rowShapes(metadata.inputs, file), mainInput: main, labelInput: info.label?.input };
}

/** The artifacts of one run id. */
type Found = Partial<Record<ServedRole, ServedArtifact>>;

/** The model of one run's artifacts: a classifier alone, or a decoder and/or an encoder that agree. */
function servedModel(name: string, { decoder, encoder, classifier }: Found): ServedModel {
  if (classifier) {
    const other = decoder ?? encoder;
    if (other) throw new AekitError('DUPLICATE_NAME', `model '${name}' has a classifier and a ${other.role} artifact (models are named by run id): ${classifier.file} and ${other.file}; serve them from separate folders`, { where: other.file });
    return { kind: 'classifier', name, ...summarizeClassifier(classifier.info), classifier };
  }
  const first = (decoder ?? encoder)!.info;
  if (decoder && encoder) {
    const facts = (i: ArtifactInfo) => JSON.stringify([i.latentSize, i.imageShape, i.valueRange, i.label?.numClasses ?? 0]);
    const [d, e] = [facts(decoder.info), facts(encoder.info)];
    if (d !== e) throw new AekitError('BAD_DATA', `encoder and decoder of model '${name}' disagree on [latent size, image shape, value range, classes]: ${e} vs ${d}`, { where: encoder.file });
  }
  return { kind: 'latent', name, ...summarizeModel(first), canSample: decoder?.info.canSample ?? false, decoder, encoder };
}

/**
 * Read the artifacts at `locations` and group them into models.
 *
 * @throws AekitError naming the file for unreadable artifacts, files without aekit metadata,
 *   two artifacts of the same role for one model, a classifier that shares its run id with an
 *   encoder or decoder, or encoder/decoder pairs that disagree.
 */
export async function loadModels(locations: readonly string[], logger: Logger): Promise<ServedModel[]> {
  const byName = new Map<string, Found>();
  const passedOver: string[] = [];
  for (const file of await findArtifactFiles(locations)) {
    const bytes = new Uint8Array(await fs.readFile(file));
    let metadata: ArtifactMetadata;
    try {
      metadata = readMetadata(bytes);
    } catch (error) {
      throw new AekitError('BAD_DATA', `not an aekit artifact (${(error as Error).message}); export models with \`aekit export\``, { where: file, cause: error });
    }
    const role: ServedRole | undefined = SERVED_PARTS[metadata.part];
    if (!role) {
      logger.info(`skipping ${file}: a ${metadata.part} (the server runs ${Object.keys(SERVED_PARTS).join(', ')} artifacts)`);
      passedOver.push(`${path.basename(file)} (a ${metadata.family === metadata.part ? '' : `${metadata.family} `}${metadata.part})`);
      continue;
    }
    const name = modelName(metadata.runId, file);
    const entry = byName.get(name) ?? {};
    const previous = entry[role];
    if (previous) {
      throw new AekitError('DUPLICATE_NAME', `two ${role} artifacts for model '${name}' (models are named by run id): ${previous.file} and ${file}; serve them from separate folders`, { where: file });
    }
    entry[role] = artifact(role, file, bytes, metadata);
    byName.set(name, entry);
  }
  if (byName.size === 0) {
    // A discriminator's or translators' folder, say: name what was found, so the refusal is not mistaken for a wrong path.
    const found = passedOver.length > 0 ? `; found only ${passedOver.join(', ')}, and the server runs ${Object.keys(SERVED_PARTS).join(', ')} artifacts` : '';
    throw new AekitError('FILE_NOT_FOUND', `no encoder, decoder or classifier artifacts in ${locations.join(', ')}${found}`);
  }
  return [...byName].map(([name, found]) => servedModel(name, found)).sort((a, b) => a.name.localeCompare(b.name));
}
