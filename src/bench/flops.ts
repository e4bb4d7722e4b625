/**
 * Floating-point operations of one forward pass, counted from the ONNX graph itself (not from the
 * tfjs model), so that a runtime's achieved GFLOP/s can be held against the machine's peak.
 *
 * Convention (the one used by fvcore, ptflops and most papers): a multiply-add is 2 FLOPs.
 * - Gemm / MatMul: 2·M·N·K, plus M·N for Gemm's bias.
 * - Conv: 2 · output elements · (Cin/group · kernel area), plus one per output element for the bias.
 * - ConvTranspose: 2 · input elements · (Cout/group · kernel area), plus the bias as above.
 * - Pooling: one per output element per kernel position (global pools: per input element).
 * - BatchNormalization (inference): 2 per element (scale and shift).
 * - Every other arithmetic or activation op (Add, Mul, Relu, Sigmoid, Softmax, ...): one per output element.
 * - Data movement (Reshape, Transpose, Concat, Slice, Gather, Pad, Resize, Cast, ...): zero.
 *
 * Shapes are propagated through the graph with the symbolic batch dimension set to the batch size
 * (FLOPs of most models grow linearly with it, but counting per batch avoids assuming so). An op
 * whose output shape cannot be inferred is listed in {@link FlopCount.uncounted}; its FLOPs and
 * those of everything downstream that needs its shape are left out, so the total is a lower bound.
 */
import { onnx } from 'onnx-proto';
import { decodeModel } from '../artifact/onnx-io';
import { float32Data, int64ToNumber } from '../export/onnx-graph';

/** FLOPs of one forward pass. */
export interface FlopCount {
  /** Total FLOPs of the counted nodes. */
  total: number;
  /** FLOPs by op type (ops counted as zero are absent). */
  byOp: Record<string, number>;
  /** `opType (node name)` of nodes whose shapes could not be inferred: the total leaves them out. */
  uncounted: string[];
}

/** Options of {@link countFlops}. */
export interface CountFlopsOptions {
  /** Value of the symbolic batch dimension (default 1). */
  batch?: number;
  /** Values of other symbolic dimensions, by name. */
  dims?: Record<string, number>;
}

/** Op types that move or relabel data and compute nothing. */
const DATA_MOVEMENT = new Set([
  'Identity', 'Reshape', 'Flatten', 'Transpose', 'Concat', 'Slice', 'Gather', 'Pad', 'Resize', 'Upsample',
  'Cast', 'Dropout', 'Squeeze', 'Unsqueeze',
]);

/** Element-wise ops with several inputs and numpy broadcasting. */
const BROADCASTING = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Min', 'Max', 'Sum', 'Mean', 'PRelu', 'Where', 'Equal', 'Greater', 'Less']);

type Shape = number[];

/** Numpy broadcasting of shapes (right-aligned). */
function broadcast(shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d !== 1) {
        if (dim !== 1 && dim !== d) throw new Error(`shapes [${shapes.map((x) => x.join(',')).join('] [')}] do not broadcast`);
        dim = d;
      }
    }
    out.push(dim);
  }
  return out;
}

const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function attributes(node: onnx.INodeProto): Map<string, onnx.IAttributeProto> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
}

function intAttr(attrs: Map<string, onnx.IAttributeProto>, name: string, fallback: number): number {
  const a = attrs.get(name);
  return a && a.i !== undefined && a.i !== null ? int64ToNumber(a.i) : fallback;
}

function intsAttr(attrs: Map<string, onnx.IAttributeProto>, name: string): number[] | undefined {
  const a = attrs.get(name);
  return a && a.ints && a.ints.length > 0 ? a.ints.map((v) => int64ToNumber(v)) : undefined;
}

function stringAttr(attrs: Map<string, onnx.IAttributeProto>, name: string, fallback: string): string {
  const a = attrs.get(name);
  return a && a.s && a.s.length > 0 ? new TextDecoder().decode(a.s) : fallback;
}

/** Values of a constant tensor (initializer or Constant node), as plain numbers. */
function tensorValues(t: onnx.ITensorProto): number[] {
  const T = onnx.TensorProto.DataType;
  if (t.dataType === T.INT64) {
    if (t.rawData && t.rawData.length > 0) {
      const raw = t.rawData;
      return Array.from(new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), Number);
    }
    return (t.int64Data ?? []).map((v) => int64ToNumber(v));
  }
  if (t.dataType === T.INT32) {
    if (t.rawData && t.rawData.length > 0) {
      const raw = t.rawData;
      return Array.from(new Int32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    }
    return [...(t.int32Data ?? [])];
  }
  if (t.dataType === T.FLOAT) return Array.from(float32Data(t));
  return [];
}

/** Spatial output size of a sliding window (Conv, pooling). */
function windowOut(size: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, ceil: boolean): number {
  const span = (size + padBegin + padEnd - dilation * (kernel - 1) - 1) / stride;
  return (ceil ? Math.ceil(span) : Math.floor(span)) + 1;
}

interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  autoPad: string;
}

function windowGeometry(attrs: Map<string, onnx.IAttributeProto>, kernel: number[]): WindowGeometry {
  const n = kernel.length;
  return {
    kernel,
    strides: intsAttr(attrs, 'strides') ?? new Array<number>(n).fill(1),
    dilations: intsAttr(attrs, 'dilations') ?? new Array<number>(n).fill(1),
    pads: intsAttr(attrs, 'pads') ?? new Array<number>(2 * n).fill(0),
    autoPad: stringAttr(attrs, 'auto_pad', 'NOTSET'),
  };
}

/** Output spatial dims of a Conv or pooling window over `spatial`. */
function slidingOutput(spatial: number[], g: WindowGeometry, ceil: boolean): number[] {
  return spatial.map((size, i) => {
    if (g.autoPad === 'SAME_UPPER' || g.autoPad === 'SAME_LOWER') return Math.ceil(size / g.strides[i]);
    if (g.autoPad === 'VALID') return windowOut(size, g.kernel[i], g.strides[i], g.dilations[i], 0, 0, ceil);
    return windowOut(size, g.kernel[i], g.strides[i], g.dilations[i], g.pads[i], g.pads[i + spatial.length], ceil);
  });
}

/** What one node produces and costs. */
interface NodeResult {
  shapes: Shape[];
  flops: number;
}

/** Shape and FLOP rules, by op type. `shape(i)` throws when input i's shape is unknown. */
function inferNode(
  node: onnx.INodeProto,
  shape: (i: number) => Shape,
  constant: (i: number) => number[] | undefined,
  hasInput: (i: number) => boolean,
): NodeResult {
  const op = node.opType ?? '';
  const attrs = attributes(node);
  switch (op) {
    case 'Gemm': {
      const [a, b] = [shape(0), shape(1)];
      const [m, k] = intAttr(attrs, 'transA', 0) ? [a[1], a[0]] : [a[0], a[1]];
      const n = intAttr(attrs, 'transB', 0) ? b[0] : b[1];
      return { shapes: [[m, n]], flops: 2 * m * n * k + (hasInput(2) ? m * n : 0) };
    }
    case 'MatMul': {
      const [a, b] = [shape(0), shape(1)];
      const a2 = a.length === 1 ? [1, a[0]] : a;
      const b2 = b.length === 1 ? [b[0], 1] : b;
      const k = a2[a2.length - 1];
      const batchDims = broadcast([a2.slice(0, -2), b2.slice(0, -2)]);
      const full = [...batchDims, a2[a2.length - 2], b2[b2.length - 1]];
      const out = full.filter((_, i) => !((a.length === 1 && i === full.length - 2) || (b.length === 1 && i === full.length - 1)));
      return { shapes: [out], flops: 2 * product(full) * k };
    }
    case 'Conv': {
      const [x, w] = [shape(0), shape(1)];
      const group = intAttr(attrs, 'group', 1);
      const g = windowGeometry(attrs, intsAttr(attrs, 'kernel_shape') ?? w.slice(2));
      const out = [x[0], w[0], ...slidingOutput(x.slice(2), g, false)];
      const perOutput = (x[1] / group) * product(g.kernel);
      return { shapes: [out], flops: 2 * product(out) * perOutput + (hasInput(2) ? product(out) : 0) };
    }
    case 'ConvTranspose': {
      const [x, w] = [shape(0), shape(1)];
      const group = intAttr(attrs, 'group', 1);
      const g = windowGeometry(attrs, intsAttr(attrs, 'kernel_shape') ?? w.slice(2));
      const spatial = x.slice(2);
      const outputPadding = intsAttr(attrs, 'output_padding') ?? new Array<number>(spatial.length).fill(0);
      const explicit = intsAttr(attrs, 'output_shape');
      const outSpatial =
        explicit ??
        spatial.map((size, i) => {
          if (g.autoPad === 'SAME_UPPER' || g.autoPad === 'SAME_LOWER') return size * g.strides[i];
          const full = g.strides[i] * (size - 1) + outputPadding[i] + (g.kernel[i] - 1) * g.dilations[i] + 1;
          return g.autoPad === 'VALID' ? full : full - g.pads[i] - g.pads[i + spatial.length];
        });
      const outChannels = w[1] * group;
      const out = [x[0], outChannels, ...outSpatial];
      const perInput = (outChannels / group) * product(g.kernel);
      return { shapes: [out], flops: 2 * product(x) * perInput + (hasInput(2) ? product(out) : 0) };
    }
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      const x = shape(0);
      const g = windowGeometry(attrs, intsAttr(attrs, 'kernel_shape') ?? []);
      const out = [x[0], x[1], ...slidingOutput(x.slice(2), g, intAttr(attrs, 'ceil_mode', 0) === 1)];
      return { shapes: [out], flops: product(out) * product(g.kernel) };
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool': {
      const x = shape(0);
      return { shapes: [[x[0], x[1], ...x.slice(2).map(() => 1)]], flops: product(x) };
    }
    case 'BatchNormalization':
    case 'InstanceNormalization':
    case 'LayerNormalization': {
      const x = shape(0);
      return { shapes: [x], flops: 2 * product(x) };
    }
    case 'Reshape': {
      const x = shape(0);
      const target = constant(1);
      if (!target) throw new Error('shape input is not a constant');
      const allowZero = intAttr(attrs, 'allowzero', 0) === 1;
      const out = target.map((d, i) => (d === 0 && !allowZero ? x[i] : d));
      const known = product(out.filter((d) => d !== -1));
      return { shapes: [out.map((d) => (d === -1 ? product(x) / known : d))], flops: 0 };
    }
    case 'Flatten': {
      const x = shape(0);
      const axis = intAttr(attrs, 'axis', 1);
      const a = axis < 0 ? axis + x.length : axis;
      return { shapes: [[product(x.slice(0, a)), product(x.slice(a))]], flops: 0 };
    }
    case 'Transpose': {
      const x = shape(0);
      const perm = intsAttr(attrs, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      return { shapes: [perm.map((p) => x[p])], flops: 0 };
    }
    case 'Concat': {
      const inputs = (node.input ?? []).map((_, i) => shape(i));
      const axis = intAttr(attrs, 'axis', 0);
      const a = axis < 0 ? axis + inputs[0].length : axis;
      const out = [...inputs[0]];
      out[a] = inputs.reduce((sum, s) => sum + s[a], 0);
      return { shapes: [out], flops: 0 };
    }
    case 'Slice': {
      const x = shape(0);
      const [starts, ends] = [constant(1), constant(2)];
      if (!starts || !ends) throw new Error('starts/ends are not constants');
      const axes = (hasInput(3) ? constant(3) : undefined) ?? starts.map((_, i) => i);
      const steps = (hasInput(4) ? constant(4) : undefined) ?? starts.map(() => 1);
      const out = [...x];
      axes.forEach((axis, i) => {
        const a = axis < 0 ? axis + x.length : axis;
        const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
        const norm = (v: number) => (v < 0 ? v + x[a] : v);
        const step = steps[i];
        const s = step > 0 ? clamp(norm(starts[i]), 0, x[a]) : clamp(norm(starts[i]), -1, x[a] - 1);
        const e = step > 0 ? clamp(norm(ends[i]), 0, x[a]) : clamp(norm(ends[i]), -1, x[a] - 1);
        out[a] = Math.max(0, Math.ceil((e - s) / step));
      });
      return { shapes: [out], flops: 0 };
    }
    case 'Resize':
    case 'Upsample': {
      const x = shape(0);
      const sizes = op === 'Resize' && hasInput(3) ? constant(3) : undefined;
      if (sizes && sizes.length === x.length) return { shapes: [sizes], flops: 0 };
      const scales = op === 'Resize' ? (hasInput(2) ? constant(2) : undefined) : constant(1);
      if (!scales || scales.length !== x.length) throw new Error('scales/sizes are not constants');
      return { shapes: [x.map((d, i) => Math.floor(d * scales[i]))], flops: 0 };
    }
    case 'Pad': {
      const x = shape(0);
      const pads = hasInput(1) ? constant(1) : intsAttr(attrs, 'pads');
      if (!pads) throw new Error('pads are not constants');
      return { shapes: [x.map((d, i) => d + pads[i] + pads[i + x.length])], flops: 0 };
    }
    case 'Gather': {
      const [data, indices] = [shape(0), shape(1)];
      const axis = intAttr(attrs, 'axis', 0);
      const a = axis < 0 ? axis + data.length : axis;
      return { shapes: [[...data.slice(0, a), ...indices, ...data.slice(a + 1)]], flops: 0 };
    }
    case 'Squeeze':
    case 'Unsqueeze': {
      const x = shape(0);
      const axes = (hasInput(1) ? constant(1) : undefined) ?? intsAttr(attrs, 'axes');
      if (op === 'Squeeze') {
        const rank = x.length;
        const drop = new Set((axes ?? x.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => (a < 0 ? a + rank : a)));
        return { shapes: [x.filter((_, i) => !drop.has(i))], flops: 0 };
      }
      if (!axes) throw new Error('axes are not constants');
      const rank = x.length + axes.length;
      const insert = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const out: Shape = [];
      let at = 0;
      for (let i = 0; i < rank; i++) out.push(insert.has(i) ? 1 : x[at++]);
      return { shapes: [out], flops: 0 };
    }
    case 'Dropout':
      // Second output (mask) has the same shape; it is never used at inference.
      return { shapes: [shape(0), shape(0)], flops: 0 };
    default: {
      if (BROADCASTING.has(op)) {
        const out = broadcast((node.input ?? []).map((_, i) => shape(i)));
        return { shapes: [out], flops: op === 'Where' ? 0 : product(out) * Math.max(1, (node.input ?? []).length - 1) };
      }
      // Unary ops (activations, Clip, Cast, Identity, Softmax, Erf, ...) keep the shape of input 0.
      const x = shape(0);
      return { shapes: [x], flops: DATA_MOVEMENT.has(op) ? 0 : product(x) };
    }
  }
}

/** Ops that keep their input's shape and are known, so an unknown op type is reported rather than guessed. */
const UNARY_OPS = new Set([
  'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'HardSigmoid', 'Tanh', 'Softplus', 'Softsign', 'Erf', 'Exp', 'Log',
  'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Clip', 'Softmax', 'LogSoftmax', 'Identity', 'Cast', 'Floor', 'Ceil', 'Round',
  'Sign', 'Gelu', 'HardSwish', 'Mish', 'ThresholdedRelu', 'Celu', 'Not',
]);

/** Every op type the counter knows the shape rule of. */
export const FLOP_COUNTED_OPS: ReadonlySet<string> = new Set([
  'Gemm', 'MatMul', 'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool',
  'BatchNormalization', 'InstanceNormalization', 'LayerNormalization',
  ...BROADCASTING, ...UNARY_OPS, ...DATA_MOVEMENT,
]);

/**
 * Count the FLOPs of one forward pass of an ONNX model (bytes or a decoded model) at a batch size.
 * See the file comment for the convention.
 */
export function countFlops(source: Uint8Array | onnx.IModelProto, options: CountFlopsOptions = {}): FlopCount {
  const model = source instanceof Uint8Array ? decodeModel(source, '<onnx bytes>') : source;
  const graph = model.graph as onnx.IGraphProto;
  const batch = options.batch ?? 1;
  const shapes = new Map<string, Shape>();
  const constants = new Map<string, number[]>();
  for (const t of graph.initializer ?? []) {
    shapes.set(t.name ?? '', (t.dims ?? []).map((d) => int64ToNumber(d)));
    const values = tensorValues(t);
    // Only small tensors can be shapes, axes or scales; skip weights.
    if (values.length <= 16) constants.set(t.name ?? '', values);
  }
  for (const input of graph.input ?? []) {
    const name = input.name ?? '';
    if (shapes.has(name)) continue;
    const dims = input.type?.tensorType?.shape?.dim ?? [];
    const resolved = dims.map((d) => {
      if (d.dimParam) return d.dimParam === 'batch' ? batch : options.dims?.[d.dimParam];
      return d.dimValue !== undefined && d.dimValue !== null ? int64ToNumber(d.dimValue) : undefined;
    });
    // A symbolic dimension other than the batch without a value leaves the input's shape unknown.
    if (resolved.every((d): d is number => d !== undefined)) shapes.set(name, resolved);
  }

  const byOp: Record<string, number> = {};
  const uncounted: string[] = [];
  let total = 0;
  for (const node of graph.node ?? []) {
    const op = node.opType ?? '';
    const inputs = node.input ?? [];
    if (op === 'Constant') {
      const value = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (value) {
        shapes.set(node.output?.[0] ?? '', (value.dims ?? []).map((d) => int64ToNumber(d)));
        constants.set(node.output?.[0] ?? '', tensorValues(value));
      }
      continue;
    }
    try {
      if (!FLOP_COUNTED_OPS.has(op)) throw new Error('op type not supported by the counter');
      const result = inferNode(
        node,
        (i) => {
          const s = shapes.get(inputs[i] ?? '');
          if (!s) throw new Error(`shape of input '${inputs[i]}' is unknown`);
          return s;
        },
        (i) => constants.get(inputs[i] ?? ''),
        (i) => (inputs[i] ?? '') !== '',
      );
      if (result.shapes.some((s) => s.some((d) => !Number.isFinite(d) || d < 0))) throw new Error('inferred a negative or non-finite dimension');
      (node.output ?? []).forEach((name, i) => {
        if (result.shapes[i]) shapes.set(name, result.shapes[i]);
      });
      if (result.flops > 0) {
        byOp[op] = (byOp[op] ?? 0) + result.flops;
        total += result.flops;
      }
      // Shape-carrying constants that pass through Identity/Cast stay usable downstream.
      if ((op === 'Identity' || op === 'Cast') && constants.has(inputs[0] ?? '')) constants.set(node.output?.[0] ?? '', constants.get(inputs[0] ?? '')!);
    } catch {
      uncounted.push(`${op} (${node.name || node.output?.[0] || '?'})`);
    }
  }
  return { total, byOp, uncounted };
}
