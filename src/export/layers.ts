/**
 * One converter per tfjs layer class, looked up by `getClassName()`. Every converter receives its
 * inputs already in the artifact layout (rank-4 tensors NCHW, see ./layout.ts) and must leave its
 * outputs in that layout too.
 */
import { AekitError } from '../core/errors';
import { tf } from '../core/tfjs-backend';
import { emitActivation } from './activations';
import { NCHW_TO_NHWC, NHWC_TO_NCHW, onnxAxisOf, transposeArray } from './layout';
import { Attributes, OnnxGraphBuilder, onnxDataType } from './onnx-graph';

/** A tfjs shape: batch (null) first, NHWC for rank 4. */
export type TfjsShape = (number | null)[];

/** A tensor during conversion: its ONNX value name and its tfjs shape. */
export interface Value {
  name: string;
  shape: TfjsShape;
  dtype: 'float32' | 'int32';
}

/** A layer's learned variable, read out of tfjs. */
export interface LayerWeight {
  /** Unique tfjs variable name: the same variable (shared layer) is stored once. */
  key: string;
  shape: number[];
  data: Float32Array;
}

/** What a converter gets for one application (node) of a layer. */
export interface LayerContext {
  layer: tf.layers.Layer;
  className: string;
  config: tf.serialization.ConfigDict;
  inputs: Value[];
  /** tfjs shapes of the node's outputs. */
  outputShapes: TfjsShape[];
  graph: OnnxGraphBuilder;
  /** Sanitised layer name, the base of every value name the layer creates. */
  scope: string;
}

/** Converts one node of a layer; returns the ONNX names of its outputs, in order. */
type LayerConverter = (ctx: LayerContext) => string[];

// ---------------------------------------------------------------- helpers

function fail(ctx: LayerContext, message: string): AekitError {
  return new AekitError('EXPORT_FAILED', message, { where: `layer '${ctx.layer.name}' (${ctx.className})` });
}

function configValue(ctx: LayerContext, key: string): tf.serialization.ConfigDictValue | undefined {
  return ctx.config[key];
}

function cfgNumber(ctx: LayerContext, key: string, fallback?: number): number {
  const v = configValue(ctx, key);
  if (typeof v === 'number') return v;
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  throw fail(ctx, `config '${key}' should be a number, found ${JSON.stringify(v)}`);
}

function cfgString(ctx: LayerContext, key: string, fallback?: string): string {
  const v = configValue(ctx, key);
  if (typeof v === 'string') return v;
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  throw fail(ctx, `config '${key}' should be a string, found ${JSON.stringify(v)}`);
}

function cfgBool(ctx: LayerContext, key: string, fallback: boolean): boolean {
  const v = configValue(ctx, key);
  return typeof v === 'boolean' ? v : fallback;
}

/** A config entry that tfjs stores as a number or a pair (kernelSize, strides, size). */
function cfgPair(ctx: LayerContext, key: string, fallback?: [number, number]): [number, number] {
  const v = configValue(ctx, key);
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
  if ((v === undefined || v === null) && fallback) return fallback;
  throw fail(ctx, `config '${key}' should be a number or a pair of numbers, found ${JSON.stringify(v)}`);
}

/** [[top, bottom], [left, right]] (ZeroPadding2D, Cropping2D). */
function cfgBox(ctx: LayerContext, key: string): [[number, number], [number, number]] {
  const v = configValue(ctx, key);
  if (typeof v === 'number') return [[v, v], [v, v]];
  if (Array.isArray(v) && v.length === 2) {
    const pair = (p: unknown): [number, number] => {
      if (typeof p === 'number') return [p, p];
      if (Array.isArray(p) && p.length === 2 && typeof p[0] === 'number' && typeof p[1] === 'number') return [p[0], p[1]];
      throw fail(ctx, `config '${key}' should be [[top, bottom], [left, right]], found ${JSON.stringify(v)}`);
    };
    return [pair(v[0]), pair(v[1])];
  }
  throw fail(ctx, `config '${key}' should be [[top, bottom], [left, right]], found ${JSON.stringify(v)}`);
}

function requireChannelsLast(ctx: LayerContext): void {
  const format = cfgString(ctx, 'dataFormat', 'channelsLast');
  if (format !== 'channelsLast') throw fail(ctx, `dataFormat '${format}' is not supported (expected 'channelsLast')`);
}

function requireRank(ctx: LayerContext, value: Value, ranks: number[]): number {
  const rank = value.shape.length;
  if (!ranks.includes(rank)) throw fail(ctx, `input of rank ${rank} is not supported (expected rank ${ranks.join(' or ')})`);
  return rank;
}

/** Static size of dimension `i` of a tfjs shape (spatial dims must be known to export). */
function staticDim(ctx: LayerContext, shape: TfjsShape, i: number): number {
  const d = shape[i];
  if (d === null) throw fail(ctx, `dimension ${i} of shape [${shape.join(', ')}] must be static to export`);
  return d;
}

/** The layer's variable whose tfjs name ends in `/<suffix>`, read as float32. */
function weight(ctx: LayerContext, suffix: string): LayerWeight | undefined {
  const variable = ctx.layer.weights.find((w) => w.originalName.split('/').pop() === suffix);
  if (!variable) return undefined;
  const value = variable.read();
  if (value.dtype !== 'float32') throw fail(ctx, `weight '${suffix}' has dtype ${value.dtype} (expected float32)`);
  return { key: variable.name, shape: value.shape, data: value.dataSync() as Float32Array };
}

function requireWeight(ctx: LayerContext, suffix: string): LayerWeight {
  const w = weight(ctx, suffix);
  if (!w) throw fail(ctx, `weight '${suffix}' not found (has the model been built?)`);
  return w;
}

function addWeight(ctx: LayerContext, w: LayerWeight, name: string, perm?: number[]): string {
  const data = perm ? transposeArray(w.data, w.shape, perm) : w.data;
  const shape = perm ? perm.map((p) => w.shape[p]) : w.shape;
  return ctx.graph.weight(perm ? `${w.key}:${perm.join('')}` : w.key, `${ctx.scope}.${name}`, shape, data);
}

function activation(ctx: LayerContext, x: string, name: string, rank: number): string {
  const out = emitActivation(ctx.graph, x, name, rank, ctx.scope);
  if (out === undefined) throw fail(ctx, `activation '${name}' is not supported`);
  return out;
}

/** The layer's `activation` config applied to `x`. */
function configuredActivation(ctx: LayerContext, x: string, rank: number): string {
  return activation(ctx, x, cfgString(ctx, 'activation', 'linear'), rank);
}

function transpose(ctx: LayerContext, x: string, perm: readonly number[], suffix: string): string {
  return ctx.graph.node('Transpose', [x], `${ctx.scope}/${suffix}`, { perm: [...perm] });
}

/**
 * An NCHW tensor whose NHWC memory order is the same (C == 1, or H == W == 1) needs no
 * Transpose before a Flatten/Reshape; this saves nodes in the common Dense -> Reshape([1,1,C]).
 */
function layoutsCoincide(shape: TfjsShape): boolean {
  return shape[3] === 1 || (shape[1] === 1 && shape[2] === 1);
}

/** TensorFlow's 'same' padding for one spatial dim: [before, after], the odd pixel after. */
function samePads(inSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + effective - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** ONNX `pads` ([top, left, bottom, right]) for a windowed op over an NHWC tfjs shape. */
function windowPads(
  ctx: LayerContext,
  shape: TfjsShape,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): number[] {
  const padding = cfgString(ctx, 'padding', 'valid');
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw fail(ctx, `padding '${padding}' is not supported (expected 'same' or 'valid')`);
  const [top, bottom] = samePads(staticDim(ctx, shape, 1), kernel[0], strides[0], dilations[0]);
  const [left, right] = samePads(staticDim(ctx, shape, 2), kernel[1], strides[1], dilations[1]);
  return [top, left, bottom, right];
}

function single(ctx: LayerContext): Value {
  if (ctx.inputs.length !== 1) throw fail(ctx, `expected 1 input, found ${ctx.inputs.length}`);
  return ctx.inputs[0];
}

// ---------------------------------------------------------------- converters

const identity: LayerConverter = (ctx) => [single(ctx).name];

const dense: LayerConverter = (ctx) => {
  const x = single(ctx);
  const rank = x.shape.length;
  const kernel = addWeight(ctx, requireWeight(ctx, 'kernel'), 'kernel');
  const biasWeight = cfgBool(ctx, 'useBias', true) ? weight(ctx, 'bias') : undefined;
  const bias = biasWeight ? addWeight(ctx, biasWeight, 'bias') : undefined;
  const g = ctx.graph;
  let y: string;
  if (rank === 2) {
    y = bias ? g.node('Gemm', [x.name, kernel, bias], `${ctx.scope}/gemm`) : g.node('MatMul', [x.name, kernel], `${ctx.scope}/matmul`);
  } else {
    // tfjs applies Dense to the last axis; for an image tensor that is C, so go through NHWC.
    const input = rank === 4 ? transpose(ctx, x.name, NCHW_TO_NHWC, 'to_nhwc') : x.name;
    y = g.node('MatMul', [input, kernel], `${ctx.scope}/matmul`);
    if (bias) y = g.node('Add', [y, bias], `${ctx.scope}/bias`);
    if (rank === 4) y = transpose(ctx, y, NHWC_TO_NCHW, 'to_nchw');
  }
  return [configuredActivation(ctx, y, rank)];
};

const conv2d: LayerConverter = (ctx) => {
  const x = single(ctx);
  requireRank(ctx, x, [4]);
  requireChannelsLast(ctx);
  const kernelSize = cfgPair(ctx, 'kernelSize');
  const strides = cfgPair(ctx, 'strides', [1, 1]);
  const dilations = cfgPair(ctx, 'dilationRate', [1, 1]);
  // tfjs kernel [kh, kw, in, out] -> ONNX Conv W [out, in, kh, kw].
  const kernel = addWeight(ctx, requireWeight(ctx, 'kernel'), 'kernel', [3, 2, 0, 1]);
  const biasWeight = cfgBool(ctx, 'useBias', true) ? weight(ctx, 'bias') : undefined;
  const inputs = [x.name, kernel, ...(biasWeight ? [addWeight(ctx, biasWeight, 'bias')] : [])];
  const y = ctx.graph.node('Conv', inputs, `${ctx.scope}/conv`, {
    kernel_shape: kernelSize,
    strides,
    dilations,
    pads: windowPads(ctx, x.shape, kernelSize, strides, dilations),
    group: 1,
  });
  return [configuredActivation(ctx, y, 4)];
};

/**
 * tfjs computes Conv2DTranspose as the input gradient of a forward conv from the output shape O
 * (O = in * s for 'same', in * s + max(k - s, 0) for 'valid'), with TF 'same' pads of that
 * forward conv. ONNX ConvTranspose is the same gradient, cropped by `pads`, with
 * `output_padding` extending the end: O = s * (in - 1) + k - pads_begin - pads_end + output_padding.
 */
const conv2dTranspose: LayerConverter = (ctx) => {
  const x = single(ctx);
  requireRank(ctx, x, [4]);
  requireChannelsLast(ctx);
  const kernelSize = cfgPair(ctx, 'kernelSize');
  const strides = cfgPair(ctx, 'strides', [1, 1]);
  const dilation = cfgPair(ctx, 'dilationRate', [1, 1]);
  if (dilation[0] !== 1 || dilation[1] !== 1) throw fail(ctx, `dilationRate [${dilation.join(', ')}] is not supported`);
  const outShape = ctx.outputShapes[0];
  const outSize: [number, number] = [staticDim(ctx, outShape, 1), staticDim(ctx, outShape, 2)];
  const inSize: [number, number] = [staticDim(ctx, x.shape, 1), staticDim(ctx, x.shape, 2)];
  const padding = cfgString(ctx, 'padding', 'valid');
  if (padding !== 'same' && padding !== 'valid') throw fail(ctx, `padding '${padding}' is not supported`);
  const begin: number[] = [];
  const end: number[] = [];
  const outputPadding: number[] = [];
  for (let i = 0; i < 2; i++) {
    const [b, e] = padding === 'same' ? samePads(outSize[i], kernelSize[i], strides[i], 1) : [0, 0];
    const extra = outSize[i] - (strides[i] * (inSize[i] - 1) + kernelSize[i]) + b + e;
    if (extra < 0 || extra >= strides[i]) {
      throw fail(ctx, `cannot express output size ${outSize[i]} (input ${inSize[i]}, kernel ${kernelSize[i]}, stride ${strides[i]}) as ONNX ConvTranspose`);
    }
    begin.push(b);
    end.push(e);
    outputPadding.push(extra);
  }
  // tfjs kernel [kh, kw, out, in] -> ONNX ConvTranspose W [in, out, kh, kw].
  const kernel = addWeight(ctx, requireWeight(ctx, 'kernel'), 'kernel', [3, 2, 0, 1]);
  const biasWeight = cfgBool(ctx, 'useBias', true) ? weight(ctx, 'bias') : undefined;
  const inputs = [x.name, kernel, ...(biasWeight ? [addWeight(ctx, biasWeight, 'bias')] : [])];
  const y = ctx.graph.node('ConvTranspose', inputs, `${ctx.scope}/conv_transpose`, {
    kernel_shape: kernelSize,
    strides,
    pads: [...begin, ...end],
    output_padding: outputPadding,
    group: 1,
  });
  return [configuredActivation(ctx, y, 4)];
};

const batchNormalization: LayerConverter = (ctx) => {
  const x = single(ctx);
  const rank = x.shape.length;
  const tfjsAxis = cfgNumber(ctx, 'axis', -1);
  if (tfjsAxis !== -1 && tfjsAxis !== rank - 1) {
    // tfjs-core's batchNorm kernels broadcast the statistics along the last axis whatever their
    // shape, so tfjs itself computes a non-last-axis BatchNormalization wrongly; exporting the
    // intended maths would silently disagree with the model as trained.
    throw fail(ctx, `axis ${tfjsAxis} is not supported (tfjs normalises correctly over the last axis only)`);
  }
  const axis = onnxAxisOf(tfjsAxis, rank);
  const epsilon = cfgNumber(ctx, 'epsilon', 1e-3);
  const mean = requireWeight(ctx, 'moving_mean');
  const variance = requireWeight(ctx, 'moving_variance');
  const channels = mean.data.length;
  const gamma = cfgBool(ctx, 'scale', true) ? weight(ctx, 'gamma') : undefined;
  const beta = cfgBool(ctx, 'center', true) ? weight(ctx, 'beta') : undefined;
  const g = ctx.graph;
  if (axis === 1) {
    // ONNX BatchNormalization normalises axis 1: the channels of NC and NCHW tensors.
    const ones: LayerWeight = { key: `${mean.key}:ones`, shape: [channels], data: new Float32Array(channels).fill(1) };
    const zeros: LayerWeight = { key: `${mean.key}:zeros`, shape: [channels], data: new Float32Array(channels) };
    const y = g.node(
      'BatchNormalization',
      [
        x.name,
        addWeight(ctx, gamma ?? ones, 'gamma'),
        addWeight(ctx, beta ?? zeros, 'beta'),
        addWeight(ctx, mean, 'moving_mean'),
        addWeight(ctx, variance, 'moving_variance'),
      ],
      ctx.scope,
      { epsilon: { f: epsilon } },
    );
    return [y];
  }
  // Channels last but not at axis 1 (rank 3, [B, L, C]): fold into y = x * scale + shift.
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = (gamma ? gamma.data[c] : 1) / Math.sqrt(variance.data[c] + epsilon);
    scale[c] = s;
    shift[c] = (beta ? beta.data[c] : 0) - mean.data[c] * s;
  }
  const scaleName = g.weight(`${mean.key}:scale`, `${ctx.scope}.scale`, [channels], scale);
  const shiftName = g.weight(`${mean.key}:shift`, `${ctx.scope}.shift`, [channels], shift);
  return [g.node('Add', [g.node('Mul', [x.name, scaleName], `${ctx.scope}/scale`), shiftName], ctx.scope)];
};

const activationLayer: LayerConverter = (ctx) => {
  const x = single(ctx);
  return [activation(ctx, x.name, cfgString(ctx, 'activation'), x.shape.length)];
};

const reluLayer: LayerConverter = (ctx) => {
  const x = single(ctx);
  const maxValue = configValue(ctx, 'maxValue');
  if (typeof maxValue === 'number') {
    const g = ctx.graph;
    return [g.node('Clip', [x.name, g.constant('clip_min', 'float32', [], [0]), g.constant('clip_max', 'float32', [], [maxValue])], ctx.scope)];
  }
  return [ctx.graph.node('Relu', [x.name], ctx.scope)];
};

const leakyReluLayer: LayerConverter = (ctx) => [
  ctx.graph.node('LeakyRelu', [single(ctx).name], ctx.scope, { alpha: { f: cfgNumber(ctx, 'alpha', 0.3) } }),
];

const eluLayer: LayerConverter = (ctx) => [
  ctx.graph.node('Elu', [single(ctx).name], ctx.scope, { alpha: { f: cfgNumber(ctx, 'alpha', 1) } }),
];

const softmaxLayer: LayerConverter = (ctx) => {
  const x = single(ctx);
  return [ctx.graph.node('Softmax', [x.name], ctx.scope, { axis: onnxAxisOf(cfgNumber(ctx, 'axis', -1), x.shape.length) })];
};

const flatten: LayerConverter = (ctx) => {
  const x = single(ctx);
  const rank = x.shape.length;
  if (rank <= 2) return [x.name];
  // tfjs flattens in NHWC order; the Dense that usually follows was trained on that order.
  const input = rank === 4 && !layoutsCoincide(x.shape) ? transpose(ctx, x.name, NCHW_TO_NHWC, 'to_nhwc') : x.name;
  return [ctx.graph.node('Flatten', [input], ctx.scope, { axis: 1 })];
};

const reshape: LayerConverter = (ctx) => {
  const x = single(ctx);
  const out = ctx.outputShapes[0];
  const g = ctx.graph;
  const unknown = out.slice(1).filter((d) => d === null).length;
  if (unknown > 1) throw fail(ctx, `target shape [${out.slice(1).join(', ')}] has more than one unknown dimension`);
  const inCoincides = x.shape.length !== 4 || layoutsCoincide(x.shape);
  const outCoincides = out.length !== 4 || layoutsCoincide(out);
  const input = inCoincides ? x.name : transpose(ctx, x.name, NCHW_TO_NHWC, 'to_nhwc');
  // 0 copies the batch dimension (Reshape's allowzero = 0), -1 takes the one unknown dim.
  const target = out.slice(1).map((d) => (d === null ? -1 : d));
  if (out.length === 4 && outCoincides) {
    // Same memory order: reshape straight to the NCHW shape.
    const nchw = [0, target[2], target[0], target[1]];
    return [g.node('Reshape', [input, g.constant(`${ctx.scope}.shape`, 'int64', [4], nchw)], ctx.scope)];
  }
  const y = g.node('Reshape', [input, g.constant(`${ctx.scope}.shape`, 'int64', [out.length], [0, ...target])], `${ctx.scope}/reshape`);
  return [out.length === 4 ? transpose(ctx, y, NHWC_TO_NCHW, 'to_nchw') : y];
};

const concatenate: LayerConverter = (ctx) => {
  const rank = ctx.inputs[0].shape.length;
  if (ctx.inputs.some((v) => v.shape.length !== rank)) throw fail(ctx, 'inputs of different ranks are not supported');
  const axis = onnxAxisOf(cfgNumber(ctx, 'axis', -1), rank);
  return [ctx.graph.node('Concat', ctx.inputs.map((v) => v.name), ctx.scope, { axis })];
};

/** Elementwise merge layers: a left fold of a binary ONNX op. */
function merge(op: 'Add' | 'Mul' | 'Max' | 'Min', scaleByCount = false): LayerConverter {
  return (ctx) => {
    if (ctx.inputs.length < 2) throw fail(ctx, `expected at least 2 inputs, found ${ctx.inputs.length}`);
    const rank = ctx.inputs[0].shape.length;
    if (ctx.inputs.some((v) => v.shape.length !== rank)) throw fail(ctx, 'inputs of different ranks are not supported');
    const g = ctx.graph;
    let y = ctx.inputs[0].name;
    for (let i = 1; i < ctx.inputs.length; i++) {
      const last = i === ctx.inputs.length - 1 && !scaleByCount;
      y = g.node(op, [y, ctx.inputs[i].name], last ? ctx.scope : `${ctx.scope}/${op.toLowerCase()}`);
    }
    if (scaleByCount) {
      // tfjs Average is sum * (1 / n).
      y = g.node('Mul', [y, g.constant(`${ctx.scope}.inv_count`, 'float32', [], [1 / ctx.inputs.length])], ctx.scope);
    }
    return [y];
  };
}

const upSampling2d: LayerConverter = (ctx) => {
  const x = single(ctx);
  requireRank(ctx, x, [4]);
  requireChannelsLast(ctx);
  const [sh, sw] = cfgPair(ctx, 'size', [2, 2]);
  const interpolation = cfgString(ctx, 'interpolation', 'nearest');
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') throw fail(ctx, `interpolation '${interpolation}' is not supported`);
  const g = ctx.graph;
  const scales = g.constant(`${ctx.scope}.scales`, 'float32', [4], [1, 1, sh, sw]);
  // tfjs resizes with alignCorners = halfPixelCenters = false: source = floor(dest / scale),
  // which is ONNX's 'asymmetric' transform (with 'floor' rounding for nearest).
  const attributes: Attributes =
    interpolation === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : { mode: 'linear', coordinate_transformation_mode: 'asymmetric' };
  return [g.node('Resize', [x.name, '', scales], ctx.scope, attributes)];
};

function pooling2d(op: 'MaxPool' | 'AveragePool'): LayerConverter {
  return (ctx) => {
    const x = single(ctx);
    requireRank(ctx, x, [4]);
    requireChannelsLast(ctx);
    const poolSize = cfgPair(ctx, 'poolSize', [2, 2]);
    const strides = cfgPair(ctx, 'strides', poolSize);
    const attributes = {
      kernel_shape: poolSize,
      strides,
      pads: windowPads(ctx, x.shape, poolSize, strides, [1, 1]),
      // TF's 'same' average pooling divides by the number of real pixels, not the window size.
      ...(op === 'AveragePool' ? { count_include_pad: 0 } : {}),
    };
    return [ctx.graph.node(op, [x.name], ctx.scope, attributes)];
  };
}

function globalPooling2d(op: 'GlobalAveragePool' | 'GlobalMaxPool'): LayerConverter {
  return (ctx) => {
    const x = single(ctx);
    requireRank(ctx, x, [4]);
    requireChannelsLast(ctx);
    // tfjs drops the spatial dims ([B, C]); ONNX keeps them as 1x1.
    const pooled = ctx.graph.node(op, [x.name], `${ctx.scope}/pool`);
    return [ctx.graph.node('Flatten', [pooled], ctx.scope, { axis: 1 })];
  };
}

const zeroPadding2d: LayerConverter = (ctx) => {
  const x = single(ctx);
  requireRank(ctx, x, [4]);
  requireChannelsLast(ctx);
  const [[top, bottom], [left, right]] = cfgBox(ctx, 'padding');
  const g = ctx.graph;
  const pads = g.constant(`${ctx.scope}.pads`, 'int64', [8], [0, 0, top, left, 0, 0, bottom, right]);
  return [g.node('Pad', [x.name, pads], ctx.scope, { mode: 'constant' })];
};

const cropping2d: LayerConverter = (ctx) => {
  const x = single(ctx);
  requireRank(ctx, x, [4]);
  requireChannelsLast(ctx);
  const [[top, bottom], [left, right]] = cfgBox(ctx, 'cropping');
  const height = staticDim(ctx, x.shape, 1);
  const width = staticDim(ctx, x.shape, 2);
  const g = ctx.graph;
  const starts = g.constant(`${ctx.scope}.starts`, 'int64', [2], [top, left]);
  const ends = g.constant(`${ctx.scope}.ends`, 'int64', [2], [height - bottom, width - right]);
  const axes = g.constant(`${ctx.scope}.axes`, 'int64', [2], [2, 3]);
  return [g.node('Slice', [x.name, starts, ends, axes], ctx.scope)];
};

const embedding: LayerConverter = (ctx) => {
  const x = single(ctx);
  const table = addWeight(ctx, requireWeight(ctx, 'embeddings'), 'embeddings');
  // tfjs casts float indices to int32 (truncation); ONNX Cast float -> int truncates the same way.
  const indices = x.dtype === 'int32' ? x.name : ctx.graph.node('Cast', [x.name], `${ctx.scope}/indices`, { to: onnxDataType('int64') });
  return [ctx.graph.node('Gather', [table, indices], ctx.scope, { axis: 0 })];
};

/** Every layer class the converter understands, by tfjs class name. */
const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = Object.freeze({
  Dense: dense,
  Conv2D: conv2d,
  Conv2DTranspose: conv2dTranspose,
  BatchNormalization: batchNormalization,
  // Regularisers that are the identity at inference time.
  Dropout: identity,
  SpatialDropout1D: identity,
  AlphaDropout: identity,
  GaussianDropout: identity,
  GaussianNoise: identity,
  Activation: activationLayer,
  ReLU: reluLayer,
  LeakyReLU: leakyReluLayer,
  ELU: eluLayer,
  Softmax: softmaxLayer,
  Flatten: flatten,
  Reshape: reshape,
  Concatenate: concatenate,
  Add: merge('Add'),
  Multiply: merge('Mul'),
  Maximum: merge('Max'),
  Minimum: merge('Min'),
  Average: merge('Add', true),
  UpSampling2D: upSampling2d,
  MaxPooling2D: pooling2d('MaxPool'),
  AveragePooling2D: pooling2d('AveragePool'),
  GlobalAveragePooling2D: globalPooling2d('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPooling2d('GlobalMaxPool'),
  ZeroPadding2D: zeroPadding2d,
  Cropping2D: cropping2d,
  Embedding: embedding,
});

/** tfjs layer classes the converter supports. */
export const SUPPORTED_LAYERS: readonly string[] = Object.freeze(Object.keys(LAYER_CONVERTERS).sort());

/**
 * Convert one node of a layer; unknown classes are an EXPORT_FAILED error naming the layer. The
 * class is checked before `getConfig()`, which custom layers may not implement.
 */
export function convertLayer(node: Omit<LayerContext, 'config'>): string[] {
  const { layer, className } = node;
  if (!Object.hasOwn(LAYER_CONVERTERS, className)) {
    throw new AekitError(
      'EXPORT_FAILED',
      `layer '${layer.name}' has class '${className}', which the ONNX converter does not support; supported: ${SUPPORTED_LAYERS.join(', ')}`,
      { where: `layer '${layer.name}'` },
    );
  }
  const ctx: LayerContext = { ...node, config: layer.getConfig() };
  const outputs = LAYER_CONVERTERS[ctx.className](ctx);
  if (outputs.length !== ctx.outputShapes.length) {
    throw fail(ctx, `converter produced ${outputs.length} outputs, the layer has ${ctx.outputShapes.length}`);
  }
  return outputs;
}

/**
 * The activation a layer ends with, for the metadata's `outputActivation`; layers that only move
 * data (Dropout, Reshape, ...) report undefined so the caller can look further back.
 */
export function layerActivation(layer: tf.layers.Layer): string | undefined {
  const className = layer.getClassName();
  const config = layer.getConfig();
  switch (className) {
    case 'ReLU':
      if (config.maxValue === 6) return 'relu6';
      return typeof config.maxValue === 'number' ? `relu(max ${config.maxValue})` : 'relu';
    case 'LeakyReLU':
      return 'leakyRelu';
    case 'ELU':
      return 'elu';
    case 'Softmax':
      return 'softmax';
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'AlphaDropout':
    case 'GaussianDropout':
    case 'GaussianNoise':
    case 'Flatten':
    case 'Reshape':
    case 'ZeroPadding2D':
    case 'Cropping2D':
    case 'UpSampling2D':
      return undefined;
    default:
      return typeof config.activation === 'string' ? config.activation : 'linear';
  }
}
