/**
 * The export stage's entry point: tfjs model -> self-describing ONNX bytes (optionally fp16).
 * Writing, verification and Triton are separate steps the caller chains (see run-export.ts).
 */
import { onnx } from 'onnx-proto';
import { AekitError } from '../core/errors';
import { tf } from '../core/tfjs-backend';
import { convertLayersModel } from './convert';
import { convertWeightsToFloat16 } from './fp16';
import { encodeModel } from '../artifact/onnx-io';
import { ArtifactMetadata, ArtifactPart, TensorSpec } from '../artifact/metadata';
import { metadataProps } from '../artifact/onnx-io';
import { AEKIT_VERSION } from '../core/version';
import { runOnnx } from '../artifact/runtime';
import { DEFAULT_VERIFY_BATCH, describeVerifiable, maxAbsDiff, sampleInputs } from './verify';
import { describeArtifact } from '../artifact/info';

/** Metadata the caller knows; the rest (version, part, inputs/outputs, ...) the exporter fills in. */
export type ArtifactMetadataInput = Omit<
  ArtifactMetadata,
  'aekitVersion' | 'part' | 'inputs' | 'outputs' | 'createdAt' | 'outputActivation' | 'imageShape'
> &
  Partial<Pick<ArtifactMetadata, 'createdAt' | 'outputActivation' | 'imageShape'>>;

/** Options of {@link exportLayersModel}. */
export interface ExportOptions {
  part: ArtifactPart;
  metadata: ArtifactMetadataInput;
  /** ONNX opset (17 by default). */
  opset?: number;
  /** Store weights as float16 (inputs/outputs stay float32). */
  fp16?: boolean;
  /** Artifact input names in `model.inputs` order (default: the input layers' names). */
  inputNames?: string[];
  /** Artifact output names in `model.outputs` order (default: the output layers' names). */
  outputNames?: string[];
  /** Seed of the inputs used to measure the fp16 error (default 0). */
  seed?: number;
}

/** What storing weights as float16 saved and cost. */
export interface Fp16Report {
  bytesFp32: number;
  bytesFp16: number;
  bytesSaved: number;
  /** Weights stored as float16, and small ones left float32 (see FP16_MIN_ELEMENTS). */
  weightsConverted: number;
  weightsKeptFloat32: number;
  /** Largest |fp16(w) - w| over the converted weights. */
  maxWeightError: number;
  /** Largest output difference between the fp16 and fp32 artifacts on onnxruntime-node (CPU). */
  maxOutputError: number;
}

/** Result of {@link exportLayersModel}. */
export interface ExportResult {
  /** The ONNX file (fp16 when asked). */
  bytes: Uint8Array;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  metadata: ArtifactMetadata;
  fp16Report?: Fp16Report;
}

function imageShapeOf(specs: TensorSpec[]): ArtifactMetadata['imageShape'] {
  const image = specs.find((s) => s.layout === 'NCHW' && s.shape.slice(1).every((d) => typeof d === 'number'));
  if (!image) return undefined;
  const [, channels, height, width] = image.shape as [string, number, number, number];
  return { channels, height, width };
}

/** The artifact layer's description of the metadata, so export refuses what every reader would (e.g. a label input that is not an input). */
function checkDescribable(metadata: ArtifactMetadata): void {
  try {
    describeArtifact(metadata, { where: 'metadata' });
  } catch (error) {
    throw new AekitError('BAD_ARGUMENT', (error as Error).message, { cause: error });
  }
}

/**
 * Convert a tfjs model (one part of a family) to an ONNX artifact with aekit metadata.
 *
 * @throws AekitError EXPORT_FAILED naming the layer for what cannot be converted; BAD_ARGUMENT
 *   for inconsistent options or metadata.
 */
export async function exportLayersModel(model: tf.LayersModel, opts: ExportOptions): Promise<ExportResult> {
  const converted = convertLayersModel(model, { opset: opts.opset, inputNames: opts.inputNames, outputNames: opts.outputNames });
  const imageShape = opts.metadata.imageShape ?? imageShapeOf([...converted.inputs, ...converted.outputs]);
  const metadata: ArtifactMetadata = {
    ...opts.metadata,
    aekitVersion: AEKIT_VERSION,
    part: opts.part,
    inputs: converted.inputs,
    outputs: converted.outputs,
    ...(imageShape ? { imageShape } : {}),
    outputActivation: opts.metadata.outputActivation ?? converted.outputActivation,
    createdAt: opts.metadata.createdAt ?? new Date().toISOString(),
  };
  checkDescribable(metadata);
  converted.model.metadataProps = metadataProps(metadata).map((p) => onnx.StringStringEntryProto.create(p));
  const bytes32 = encodeModel(converted.model);
  if (!opts.fp16) return { bytes: bytes32, inputs: converted.inputs, outputs: converted.outputs, metadata };

  const model16 = onnx.ModelProto.decode(bytes32);
  const { maxWeightError, converted: weightsConverted, keptFloat32 } = convertWeightsToFloat16(model16, converted.weightNames);
  const bytes16 = encodeModel(model16);
  const maxOutputError = await outputDifference(model, bytes32, bytes16, opts.seed ?? 0);
  return {
    bytes: bytes16,
    inputs: converted.inputs,
    outputs: converted.outputs,
    metadata,
    fp16Report: {
      bytesFp32: bytes32.length,
      bytesFp16: bytes16.length,
      bytesSaved: bytes32.length - bytes16.length,
      weightsConverted,
      weightsKeptFloat32: keptFloat32,
      maxWeightError,
      maxOutputError,
    },
  };
}

/** Max output difference between two artifacts of the same model, on seeded inputs. */
async function outputDifference(model: tf.LayersModel, a: Uint8Array, b: Uint8Array, seed: number): Promise<number> {
  const artifact = describeVerifiable(a);
  const inputs = sampleInputs(model, artifact.inputNames, artifact.hints, seed, DEFAULT_VERIFY_BATCH);
  tf.dispose(inputs.tfjs);
  const [outA, outB] = [await runOnnx('ort-node-cpu', a, inputs.feeds), await runOnnx('ort-node-cpu', b, inputs.feeds)];
  return Math.max(0, ...outA.map((o, i) => maxAbsDiff(o.data, outB[i].data)));
}
