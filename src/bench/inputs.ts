/**
 * What the benchmark knows about the artifact (its graph inputs and outputs and, for aekit
 * artifacts, their description from the artifact layer), and the seeded inputs every runtime gets:
 * the same bytes at each batch size, so outputs can be compared across runtimes.
 */
import { onnx } from 'onnx-proto';
import { Rng } from '../core/rng';
import { VALUE_RANGES, validateMetadata } from '../artifact/metadata';
import { artifactInfo, decodeModel, rawMetadataOf } from '../artifact/onnx-io';
import type { ArtifactInfo } from '../artifact/info';
import type { ValueRange } from '../artifact/metadata';
import type { HostDtype, TypedHostTensor } from '../artifact/runtime';
import { int64ToNumber } from '../export/onnx-graph';
import { bindShape } from './dims';
import { dtypeOfOnnx, isIntegerDtype, typedTensor } from './dtypes';
import { indexBounds } from './index-bounds';

/**
 * An input or output of the graph: name, element type and shape (strings: symbolic dims; null: a
 * dim the graph neither sizes nor names).
 */
export interface GraphTensor {
  name: string;
  dtype: HostDtype;
  shape: (number | string | null)[];
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

/**
 * Largest whole number (exclusive) drawn for an integer input that indexes nothing the graph says
 * the size of (see index-bounds.ts): small enough to be a valid index, count or id almost anywhere.
 */
export const DEFAULT_INTEGER_BOUND = 10;

/** Share of true values in a bool input (masks): a fair coin, so both branches of a Where run. */
const MASK_TRUE_SHARE = 0.5;

function graphTensor(v: onnx.IValueInfoProto, where: string): GraphTensor {
  const tensorType = v.type?.tensorType;
  const dtype = dtypeOfOnnx(tensorType?.elemType, v.name ?? '', where);
  const shape = (tensorType?.shape?.dim ?? []).map((d) => {
    if (d.dimParam) return d.dimParam;
    const size = d.dimValue === undefined || d.dimValue === null ? 0 : int64ToNumber(d.dimValue);
    return size > 0 ? size : null;
  });
  return { name: v.name ?? '', dtype, shape };
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
  // told apart by element type, rank and use (see inputRole).
  let info: ArtifactInfo | undefined;
  try {
    info = Object.keys(metadata).length > 0 ? artifactInfo(validateMetadata(metadata, path, 'BAD_DATA'), path) : undefined;
  } catch {
    info = undefined;
  }
  return { path, bytes, model, inputs, outputs, info };
}

/**
 * What the benchmark feeds an input: a class label, pixels (as reals in a value range, or as bytes),
 * indices below a bound, small whole numbers, a mask, or N(0, 1) values (latent codes).
 */
type InputRole =
  | { kind: 'label'; encoding: 'one-hot' | 'index'; classes: number }
  | { kind: 'image'; valueRange: ValueRange }
  | { kind: 'pixel-bytes' }
  | { kind: 'index'; bound: number }
  | { kind: 'mask' }
  | { kind: 'normal' };

/**
 * The role of an input: for aekit artifacts from their description (label input, image input).
 * For other files: bool inputs are masks; integer inputs that index a constant tensor (Gather) or
 * a OneHot are indices below its size, rank-4 uint8 inputs pixel bytes, other integers small whole
 * numbers; real rank-4 inputs are images in [0, 1] and the rest N(0, 1).
 */
function inputRole(artifact: BenchArtifact, input: GraphTensor, bounds: () => Map<string, number>): InputRole {
  const info = artifact.info;
  if (info?.label?.input === input.name) return { kind: 'label', encoding: info.label.encoding, classes: info.label.numClasses };
  if (info && info.imageInput === input.name) return { kind: 'image', valueRange: info.valueRange };
  if (info) return { kind: 'normal' };
  if (input.dtype === 'bool') return { kind: 'mask' };
  if (isIntegerDtype(input.dtype)) {
    const bound = bounds().get(input.name);
    if (bound !== undefined) return { kind: 'index', bound };
    if (input.dtype === 'uint8' && input.shape.length === 4) return { kind: 'pixel-bytes' };
    return { kind: 'index', bound: DEFAULT_INTEGER_BOUND };
  }
  return input.shape.length === 4 ? { kind: 'image', valueRange: FOREIGN_VALUE_RANGE } : { kind: 'normal' };
}

/** Seeded values of one input's role, before conversion to its element type. */
function roleValues(role: InputRole, size: number, rng: Rng): Float64Array {
  const values = new Float64Array(size);
  switch (role.kind) {
    case 'label':
      if (role.encoding === 'one-hot') for (let row = 0; row < size / role.classes; row++) values[row * role.classes + rng.int(role.classes)] = 1;
      else for (let k = 0; k < size; k++) values[k] = rng.int(role.classes);
      break;
    case 'image': {
      const [low, high] = VALUE_RANGES[role.valueRange];
      // Rounded to float32 here, as the float32 artifacts always were: the same bytes as before.
      for (let k = 0; k < size; k++) values[k] = Math.fround(low + (high - low) * rng.next());
      break;
    }
    case 'pixel-bytes':
      for (let k = 0; k < size; k++) values[k] = rng.int(256);
      break;
    case 'index':
      for (let k = 0; k < size; k++) values[k] = rng.int(role.bound);
      break;
    case 'mask':
      for (let k = 0; k < size; k++) values[k] = rng.next() < MASK_TRUE_SHARE ? 1 : 0;
      break;
    case 'normal':
      values.set(rng.normalArray(size));
      break;
  }
  return values;
}

/**
 * Seeded inputs at a batch size, each in its input's element type: one-hot rows (or class numbers)
 * for the label input, pixels in the artifact's value range for images, N(0, 1) for latent codes;
 * for files of other tools, also masks, indices and pixel bytes (see {@link inputRole}). Batch-bound
 * dimensions get `batch`, other symbolic ones their `dims` size (see dims.ts). Layout is the
 * artifact's (NCHW images).
 *
 * @throws AekitError BAD_ARGUMENT when an input has a symbolic dimension that is neither the batch
 *   nor sized in `dims`.
 */
export function benchInputs(artifact: BenchArtifact, batch: number, seed: number, dims: Readonly<Record<string, number>> = {}): Record<string, TypedHostTensor> {
  const feeds: Record<string, TypedHostTensor> = {};
  let bounds: Map<string, number> | undefined;
  const lazyBounds = () => (bounds ??= indexBounds(artifact.model.graph as onnx.IGraphProto));
  artifact.inputs.forEach((input, i) => {
    const shape = bindShape(input, batch, dims, artifact.path);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = roleValues(inputRole(artifact, input, lazyBounds), size, Rng.derive(seed, 'bench-input', batch, i));
    feeds[input.name] = typedTensor(input.dtype, values, shape);
  });
  return feeds;
}
