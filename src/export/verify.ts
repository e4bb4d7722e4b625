/**
 * Parity check of an artifact against the tfjs model it came from, on every onnxruntime flavour
 * aekit serves with, using seeded inputs that look like real ones (images in range, one-hot rows).
 * Outputs are compared by allclose (src/core/allclose.ts): |onnx - tfjs| <= atol + rtol·|tfjs|.
 */
import { onnx } from 'onnx-proto';
import { compareClose, describeTolerance, FP16_CLOSE, FP32_CLOSE } from '../core/allclose';
import type { Tolerance, WorstElement } from '../core/allclose';
import { AekitError } from '../core/errors';
import { Rng } from '../core/rng';
import { tf } from '../core/tfjs-backend';
import { NHWC_TO_NCHW, isImageRank, transposeArray } from './layout';
import { LabelInput, VALUE_RANGES, ValueRange } from '../artifact/metadata';
import { decodeModel, rawMetadataOf } from '../artifact/onnx-io';
import { HostTensor, ORT_RUNTIMES, OrtRuntime, checkRuntime, runOnnx } from '../artifact/runtime';

/** The absolute part (atol) of an fp32 artifact's bound; its relative part is {@link FP32_RTOL} (see FP32_CLOSE). */
export const FP32_TOLERANCE = FP32_CLOSE.atol;
/** The relative part (rtol) of an fp32 artifact's bound. */
export const FP32_RTOL = FP32_CLOSE.rtol;
/** The absolute part (atol) of an fp16 artifact's bound; its relative part is {@link FP16_RTOL} (see FP16_CLOSE). */
export const FP16_TOLERANCE = FP16_CLOSE.atol;
/** The relative part (rtol) of an fp16 artifact's bound. */
export const FP16_RTOL = FP16_CLOSE.rtol;
/** Batch used when none is given: odd and above 1, so per-row and batch-mixing bugs both show. */
export const DEFAULT_VERIFY_BATCH = 3;
/** Size used for a non-batch dimension that the model leaves unknown (e.g. an Embedding's length). */
export const UNKNOWN_DIM_SAMPLE_SIZE = 5;

/** Options of {@link verifyOnnx}. */
export interface VerifyOptions {
  seed: number;
  /** Rows per input; {@link DEFAULT_VERIFY_BATCH} by default. */
  batch?: number;
  /** Relative part of the bound; {@link FP32_RTOL}, or {@link FP16_RTOL} for fp16 artifacts. */
  rtol?: number;
  /** Absolute part of the bound; {@link FP32_TOLERANCE}, or {@link FP16_TOLERANCE} for fp16 artifacts. */
  atol?: number;
  /** Runtimes to check; all of {@link ORT_RUNTIMES} by default. */
  runtimes?: OrtRuntime[];
}

/** Parity of one output on one runtime. */
export interface OutputParity {
  name: string;
  maxAbsDiff: number;
  /** The element furthest from its bound (largest |onnx - tfjs| / (atol + rtol·|tfjs|)). */
  worst?: WorstElement;
}

/** Parity of one runtime: per output, and the max abs difference overall. */
export interface RuntimeParity {
  runtime: OrtRuntime;
  outputs: OutputParity[];
  maxAbsDiff: number;
}

/** What {@link verifyOnnx} measured. Every output passed |onnx - tfjs| <= tolerance + rtol·|tfjs|. */
export interface VerifyReport {
  seed: number;
  batch: number;
  /** The absolute part of the bound (atol). */
  tolerance: number;
  /** The relative part of the bound. */
  rtol: number;
  /** Whether the artifact stores float16 weights. */
  fp16: boolean;
  runtimes: RuntimeParity[];
  maxAbsDiff: number;
}

/** Hints, from the artifact's metadata, on what realistic inputs look like. */
export interface InputHints {
  valueRange: ValueRange;
  labelInput?: LabelInput;
  numClasses?: number;
}

function hintsFrom(model: onnx.ModelProto): InputHints {
  const raw = rawMetadataOf(model, '<onnx bytes>');
  const valueRange = raw.valueRange === 'symmetric' ? 'symmetric' : 'unit';
  const label = raw.labelInput as Partial<LabelInput> | undefined;
  const labelInput =
    label && typeof label.name === 'string' && (label.encoding === 'one-hot' || label.encoding === 'index')
      ? { name: label.name, encoding: label.encoding }
      : undefined;
  const numClasses = typeof raw.numClasses === 'number' ? raw.numClasses : undefined;
  return { valueRange, labelInput, numClasses };
}

/** The Embedding vocabulary size if `input` feeds an Embedding layer directly. */
function embeddingVocabulary(model: tf.LayersModel, input: tf.SymbolicTensor): number | undefined {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Embedding') continue;
    const fed = layer.inboundNodes.some((n) => n.inputTensors.some((t) => t.sourceLayer === input.sourceLayer));
    if (fed) {
      const inputDim = layer.getConfig().inputDim;
      if (typeof inputDim === 'number') return inputDim;
    }
  }
  return undefined;
}

/** Seeded inputs for a model: tfjs tensors (NHWC) and the same values as artifact feeds (NCHW). */
export interface SampleInputs {
  tfjs: tf.Tensor[];
  feeds: Record<string, HostTensor>;
}

/**
 * Seeded inputs: one-hot rows (or class numbers) for the label input, pixels in the metadata's
 * value range for images, class numbers for inputs that feed an Embedding, N(0, 1) otherwise.
 * The caller disposes `tfjs`.
 */
export function sampleInputs(
  model: tf.LayersModel,
  inputNames: string[],
  hints: InputHints,
  seed: number,
  batch: number,
): SampleInputs {
  const tfjs: tf.Tensor[] = [];
  const feeds: Record<string, HostTensor> = {};
  model.inputs.forEach((input, i) => {
    const name = inputNames[i];
    const shape = input.shape.map((d, axis) => (axis === 0 ? batch : (d ?? UNKNOWN_DIM_SAMPLE_SIZE)));
    const size = shape.reduce((a, b) => a * b, 1);
    const rng = Rng.derive(seed, 'verify-input', i);
    const values = new Float32Array(size);
    const vocabulary = embeddingVocabulary(model, input);
    if (hints.labelInput?.name === name) {
      const classes = hints.labelInput.encoding === 'one-hot' ? shape[shape.length - 1] : (hints.numClasses ?? 2);
      if (hints.labelInput.encoding === 'one-hot') {
        for (let row = 0; row < size / classes; row++) values[row * classes + rng.int(classes)] = 1;
      } else {
        for (let k = 0; k < size; k++) values[k] = rng.int(classes);
      }
    } else if (vocabulary !== undefined) {
      for (let k = 0; k < size; k++) values[k] = rng.int(vocabulary);
    } else if (isImageRank(shape.length)) {
      const [low, high] = VALUE_RANGES[hints.valueRange];
      for (let k = 0; k < size; k++) values[k] = low + (high - low) * rng.next();
    } else {
      values.set(rng.normalArray(size));
    }
    const dtype = input.dtype === 'int32' ? 'int32' : 'float32';
    const data = dtype === 'int32' ? Int32Array.from(values) : values;
    tfjs.push(tf.tensor(data, shape, dtype));
    const onnxData = isImageRank(shape.length) ? transposeArray(data, shape, NHWC_TO_NCHW) : data;
    const dims = isImageRank(shape.length) ? NHWC_TO_NCHW.map((p) => shape[p]) : shape;
    feeds[name] = { dtype, data: onnxData, dims };
  });
  return { tfjs, feeds };
}

/** tfjs predictions in the artifact's layout (NCHW for images). */
export function tfjsReference(model: tf.LayersModel, inputs: tf.Tensor[]): { data: Float32Array; dims: number[] }[] {
  return tf.tidy(() => {
    // training: false makes Dropout/GaussianNoise the identity, as in the artifact.
    const predicted = model.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(predicted) ? predicted : [predicted];
    return list.map((t) => {
      const nchw = isImageRank(t.rank) ? tf.transpose(t, [...NHWC_TO_NCHW]) : t;
      return { data: Float32Array.from(nchw.dataSync()), dims: nchw.shape };
    });
  });
}

/** Max |a - b|; NaN anywhere (in either) counts as infinitely far. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

/** What verification needs to know about an artifact. */
export interface ArtifactDescription {
  model: onnx.ModelProto;
  /** Graph input/output names, in graph order. */
  inputNames: string[];
  outputNames: string[];
  /** Whether any weight is stored as float16. */
  fp16: boolean;
  hints: InputHints;
}

/** Decode an artifact far enough to verify it. */
export function describeVerifiable(bytes: Uint8Array): ArtifactDescription {
  const model = decodeModel(bytes, '<onnx bytes>');
  const graph = model.graph as onnx.GraphProto;
  const initializerNames = new Set(graph.initializer.map((t) => t.name ?? ''));
  return {
    model,
    inputNames: graph.input.map((v) => v.name ?? '').filter((n) => !initializerNames.has(n)),
    outputNames: graph.output.map((v) => v.name ?? ''),
    fp16: graph.initializer.some((t) => t.dataType === onnx.TensorProto.DataType.FLOAT16),
    hints: hintsFrom(model),
  };
}

/**
 * Run the artifact on each runtime with seeded inputs and compare every output with the tfjs
 * model's prediction. Inputs and outputs are matched by position (the converter keeps
 * `model.inputs`/`model.outputs` order).
 *
 * @throws AekitError VERIFY_FAILED naming the runtime and the worst output when a difference
 *   exceeds the tolerance, or when the artifact does not load or run.
 */
export async function verifyOnnx(model: tf.LayersModel, onnxBytes: Uint8Array, opts: VerifyOptions): Promise<VerifyReport> {
  const batch = opts.batch ?? DEFAULT_VERIFY_BATCH;
  if (!Number.isInteger(batch) || batch < 1) throw new AekitError('BAD_ARGUMENT', `batch must be a positive integer, found ${batch}`, { where: 'batch' });
  const runtimes = (opts.runtimes ?? [...ORT_RUNTIMES]).map(checkRuntime);
  const artifact = describeVerifiable(onnxBytes);
  if (artifact.inputNames.length !== model.inputs.length || artifact.outputNames.length !== model.outputs.length) {
    throw new AekitError(
      'VERIFY_FAILED',
      `the artifact has ${artifact.inputNames.length} inputs and ${artifact.outputNames.length} outputs, the tfjs model ${model.inputs.length} and ${model.outputs.length}`,
    );
  }
  const defaults = artifact.fp16 ? FP16_CLOSE : FP32_CLOSE;
  const bound: Tolerance = { rtol: opts.rtol ?? defaults.rtol, atol: opts.atol ?? defaults.atol };
  for (const [flag, value] of [['rtol', bound.rtol], ['atol', bound.atol]] as const) {
    if (!(value >= 0)) throw new AekitError('BAD_ARGUMENT', `${flag} must be a number >= 0, found ${value}`, { where: `--${flag}` });
  }
  const inputs = sampleInputs(model, artifact.inputNames, artifact.hints, opts.seed, batch);
  let reference: { data: Float32Array; dims: number[] }[];
  try {
    reference = tfjsReference(model, inputs.tfjs);
  } finally {
    tf.dispose(inputs.tfjs);
  }

  const parities: RuntimeParity[] = [];
  for (const runtime of runtimes) {
    const results = await runOnnx(runtime, onnxBytes, inputs.feeds);
    const outputs = artifact.outputNames.map((name, i): OutputParity => {
      const got = results.find((r) => r.name === name);
      const want = reference[i];
      if (!got || got.dims.join(',') !== want.dims.join(',')) {
        throw new AekitError(
          'VERIFY_FAILED',
          `output '${name}' has shape [${got?.dims.join(', ') ?? 'missing'}], tfjs gives [${want.dims.join(', ')}] (artifact layout)`,
          { where: runtime },
        );
      }
      const { maxAbsDiff, worst } = compareClose(got.data, want.data, bound);
      return { name, maxAbsDiff, worst };
    });
    parities.push({ runtime, outputs, maxAbsDiff: Math.max(...outputs.map((o) => o.maxAbsDiff)) });
  }

  const report: VerifyReport = {
    seed: opts.seed,
    batch,
    tolerance: bound.atol,
    rtol: bound.rtol,
    fp16: artifact.fp16,
    runtimes: parities,
    maxAbsDiff: Math.max(0, ...parities.map((p) => p.maxAbsDiff)),
  };
  const failure = worstOutside(parities);
  if (failure) {
    const { runtime, output, worst } = failure;
    const summary = parities.map((p) => `${p.runtime} ${p.maxAbsDiff.toExponential(2)}`).join(', ');
    throw new AekitError(
      'VERIFY_FAILED',
      `output '${output}' differs from tfjs beyond the tolerance ${describeTolerance(bound, 'tfjs')}: at element ${worst.index}, onnx ${worst.actual} vs tfjs ${worst.expected} ` +
        `(|diff| ${worst.absDiff.toExponential(3)}, relative ${worst.relDiff.toExponential(3)}, ${worst.ratio.toFixed(2)}x the allowed ${(bound.atol + bound.rtol * Math.abs(worst.expected)).toExponential(3)}); ` +
        `batch ${batch}, seed ${opts.seed}; max |diff| per runtime: ${summary}. ` +
        'Widen the bound with --rtol/--atol, or skip the check with --no-verify',
      { where: runtime },
    );
  }
  return report;
}

/** The output element furthest outside its bound, over every runtime; undefined when all are within. */
function worstOutside(parities: RuntimeParity[]): { runtime: OrtRuntime; output: string; worst: WorstElement } | undefined {
  let found: { runtime: OrtRuntime; output: string; worst: WorstElement } | undefined;
  for (const parity of parities) {
    for (const output of parity.outputs) {
      const worst = output.worst;
      if (worst && worst.ratio > 1 && (!found || worst.ratio > found.worst.ratio)) found = { runtime: parity.runtime, output: output.name, worst };
    }
  }
  return found;
}
