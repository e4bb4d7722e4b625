/**
 * What the benchmark knows about the artifact (its graph inputs and outputs and, for aekit
 * artifacts, their description from the artifact layer), and the seeded inputs every runtime gets:
 * the same bytes at each batch size, so outputs can be compared across runtimes.
 */
import { onnx } from 'onnx-proto';
import { AekitError } from '../core/errors';
import { Rng } from '../core/rng';
import { BATCH_DIM, VALUE_RANGES, validateMetadata } from '../artifact/metadata';
import { artifactInfo, decodeModel, rawMetadataOf } from '../artifact/onnx-io';
import type { ArtifactInfo } from '../artifact/info';
import type { ValueRange } from '../artifact/metadata';
import { int64ToNumber } from '../export/onnx-graph';
import type { HostTensor } from '../artifact/runtime';

/** An input or output of the graph: name, element type and shape (strings = symbolic dims). */
export interface GraphTensor {
  name: string;
  dtype: 'float32' | 'int32';
  shape: (number | string)[];
}

/** The artifact as the benchmark sees it. */
export interface BenchArtifact {
  /** Path of the ONNX file. */
  path: string;
  bytes: Uint8Array;
  model: onnx.ModelProto;
  inputs: GraphTensor[];
  outputs: GraphTensor[];
  /** What the artifact is, for aekit artifacts (undefined for files written by other tools). */
  info?: ArtifactInfo;
}

/**
 * Value range of the images of a file written by another tool (no aekit metadata): [0, 1], the
 * range most image models take and every aekit artifact but the GANs' (which say so).
 */
const FOREIGN_VALUE_RANGE: ValueRange = 'unit';

function graphTensor(v: onnx.IValueInfoProto, where: string): GraphTensor {
  const tensorType = v.type?.tensorType;
  const T = onnx.TensorProto.DataType;
  const elem = tensorType?.elemType;
  if (elem !== T.FLOAT && elem !== T.INT32) {
    throw new AekitError('BAD_DATA', `graph tensor '${v.name}' has element type ${String(elem)}; the benchmark feeds float32 or int32`, { where });
  }
  const shape = (tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : int64ToNumber(d.dimValue)));
  return { name: v.name ?? '', dtype: elem === T.FLOAT ? 'float32' : 'int32', shape };
}

/** Parse an artifact's bytes into what the benchmark needs. */
export function describeBenchArtifact(path: string, bytes: Uint8Array): BenchArtifact {
  const model = decodeModel(bytes, path);
  const graph = model.graph as onnx.GraphProto;
  const initializers = new Set(graph.initializer.map((t) => t.name ?? ''));
  const inputs = graph.input.filter((v) => !initializers.has(v.name ?? '')).map((v) => graphTensor(v, path));
  const outputs = graph.output.map((v) => graphTensor(v, path));
  const metadata = rawMetadataOf(model, path);
  // Files from other tools have no (or partial) aekit metadata: no description, so their inputs are
  // told apart by rank alone (see benchInputs).
  let info: ArtifactInfo | undefined;
  try {
    info = Object.keys(metadata).length > 0 ? artifactInfo(validateMetadata(metadata, path, 'BAD_DATA'), path) : undefined;
  } catch {
    info = undefined;
  }
  return { path, bytes, model, inputs, outputs, info };
}

/** What the benchmark feeds an input: a class label, pixels, or N(0, 1) values (latent codes). */
type InputRole = { kind: 'label'; encoding: 'one-hot' | 'index'; classes: number } | { kind: 'image'; valueRange: ValueRange } | { kind: 'normal' };

/**
 * The role of an input: for aekit artifacts from their description (label input, image input);
 * for other files, rank-4 inputs are images in [0, 1] and the rest N(0, 1).
 */
function inputRole(artifact: BenchArtifact, input: GraphTensor): InputRole {
  const info = artifact.info;
  if (!info) return input.shape.length === 4 ? { kind: 'image', valueRange: FOREIGN_VALUE_RANGE } : { kind: 'normal' };
  if (info.label?.input === input.name) return { kind: 'label', encoding: info.label.encoding, classes: info.label.numClasses };
  if (info.imageInput === input.name) return { kind: 'image', valueRange: info.valueRange };
  return { kind: 'normal' };
}

/**
 * Seeded inputs at a batch size: one-hot rows (or class numbers) for the label input, pixels in
 * the artifact's value range for images, N(0, 1) for everything else (latent codes); which input
 * is which comes from the artifact's description (see {@link inputRole}). Layout is the artifact's
 * (NCHW images).
 *
 * @throws AekitError BAD_DATA when an input has a symbolic dimension other than the batch.
 */
export function benchInputs(artifact: BenchArtifact, batch: number, seed: number): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  artifact.inputs.forEach((input, i) => {
    const dims = input.shape.map((d, axis) => {
      if (typeof d === 'number' && d > 0) return d;
      if (axis === 0 && (d === BATCH_DIM || typeof d === 'string' || d === 0)) return batch;
      throw new AekitError('BAD_DATA', `input '${input.name}' has dimension ${axis} = '${d}', which the benchmark cannot choose (only the batch may be symbolic)`, { where: artifact.path });
    });
    const size = dims.reduce((a, b) => a * b, 1);
    const rng = Rng.derive(seed, 'bench-input', batch, i);
    const values = new Float32Array(size);
    const role = inputRole(artifact, input);
    if (role.kind === 'label' && role.encoding === 'one-hot') {
      for (let row = 0; row < size / role.classes; row++) values[row * role.classes + rng.int(role.classes)] = 1;
    } else if (role.kind === 'label') {
      for (let k = 0; k < size; k++) values[k] = rng.int(role.classes);
    } else if (role.kind === 'image') {
      const [low, high] = VALUE_RANGES[role.valueRange];
      for (let k = 0; k < size; k++) values[k] = low + (high - low) * rng.next();
    } else {
      values.set(rng.normalArray(size));
    }
    feeds[input.name] = input.dtype === 'int32' ? { dtype: 'int32', data: Int32Array.from(values), dims } : { dtype: 'float32', data: values, dims };
  });
  return feeds;
}
