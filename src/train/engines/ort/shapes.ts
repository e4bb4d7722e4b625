/**
 * Static shape inference for the ONNX operators training graphs use. Each rule follows the
 * operator's definition in the ONNX spec (opset 17); an operator without a rule is an error, so a
 * graph the engine cannot reason about fails at compile time, not inside onnxruntime.
 */
import type { onnx } from 'onnx-proto';
import { int64ToNumber } from '../../../export/onnx-graph';
import type { OnnxElementType } from '../../../export/onnx-graph';

/** Element types a value of a training graph can have. */
export type ValueType = OnnxElementType | 'bool';

/** Static type and shape of one value. */
export interface ValueInfo {
  dtype: ValueType;
  shape: number[];
}

/** Reads an attribute of a node. */
export function attr(node: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function attrInt(node: onnx.INodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? int64ToNumber(a.i) : fallback;
}

export function attrInts(node: onnx.INodeProto, name: string, fallback: number[]): number[] {
  const a = attr(node, name);
  return a?.ints && a.ints.length > 0 ? a.ints.map((v) => int64ToNumber(v)) : fallback;
}

export function attrFloat(node: onnx.INodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.f !== undefined && a.f !== null ? a.f : fallback;
}

/** numpy-style broadcast of shapes (ONNX multidirectional broadcasting). */
export function broadcastShapes(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const offset = rank - s.length;
    s.forEach((d, i) => {
      const o = out[offset + i];
      if (d === o || d === 1) return;
      if (o !== 1) throw new Error(`cannot broadcast shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')}`);
      out[offset + i] = d;
    });
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Output size of a windowed op along one axis (Conv, MaxPool). */
function windowOut(input: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number): number {
  return Math.floor((input + padBegin + padEnd - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

const UNARY = new Set([
  'Identity', 'Relu', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Reciprocal', 'Softplus',
  'Softsign', 'Clip', 'Softmax', 'LogSoftmax', 'Erf', 'Floor', 'Round', 'Sign',
]);
const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean']);
const COMPARISON = new Set(['Greater', 'Less', 'Equal', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Xor']);

const DTYPE_BY_ONNX: Readonly<Record<number, ValueType>> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16' };

/**
 * Output types and shapes of a node. `info` gives those of its inputs; `constant` the values of
 * int64 constants (for Reshape targets, axes, split sizes).
 */
export function inferShapes(
  node: onnx.INodeProto,
  info: (name: string) => ValueInfo,
  constant: (name: string) => number[] | undefined,
): ValueInfo[] {
  const op = node.opType ?? '';
  const inputs = (node.input ?? []).map((n) => (n === '' ? undefined : info(n)));
  const x = inputs[0];
  const need = (v: ValueInfo | undefined, what: string): ValueInfo => {
    if (!v) throw new Error(`${op} '${node.name}': missing ${what}`);
    return v;
  };
  const constOf = (i: number, what: string): number[] => {
    const values = constant(node.input![i]);
    if (!values) throw new Error(`${op} '${node.name}': ${what} must be an int64 constant`);
    return values;
  };
  const one = (shape: number[], dtype: ValueType = need(x, 'input').dtype): ValueInfo[] => [{ dtype, shape }];

  if (UNARY.has(op)) return one([...need(x, 'input').shape]);
  if (ELEMENTWISE.has(op)) return one(broadcastShapes(inputs.map((v) => need(v, 'input').shape)));
  if (COMPARISON.has(op)) return one(broadcastShapes(inputs.map((v) => need(v, 'input').shape)), 'bool');
  switch (op) {
    case 'Not':
    case 'IsNaN':
    case 'IsInf':
      return one([...need(x, 'input').shape], 'bool');
    case 'Where':
      return one(broadcastShapes(inputs.map((v) => need(v, 'input').shape)), need(inputs[1], 'X').dtype);
    case 'Cast': {
      const to = DTYPE_BY_ONNX[attrInt(node, 'to', 1)];
      if (!to) throw new Error(`Cast '${node.name}': unsupported target type ${attrInt(node, 'to', 1)}`);
      return one([...need(x, 'input').shape], to);
    }
    case 'Gemm': {
      const a = need(inputs[0], 'A').shape;
      const b = need(inputs[1], 'B').shape;
      const m = attrInt(node, 'transA', 0) ? a[1] : a[0];
      const n = attrInt(node, 'transB', 0) ? b[0] : b[1];
      return one([m, n]);
    }
    case 'MatMul': {
      const a = need(inputs[0], 'A').shape;
      const b = need(inputs[1], 'B').shape;
      if (a.length < 2 || b.length < 2) throw new Error(`MatMul '${node.name}': rank-1 operands are not supported`);
      const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)]);
      return one([...batch, a[a.length - 2], b[b.length - 1]]);
    }
    case 'Conv':
    case 'MaxPool':
    case 'AveragePool': {
      const xs = need(x, 'X').shape;
      const spatial = xs.length - 2;
      const kernel = op === 'Conv' ? attrInts(node, 'kernel_shape', need(inputs[1], 'W').shape.slice(2)) : attrInts(node, 'kernel_shape', []);
      const strides = attrInts(node, 'strides', new Array(spatial).fill(1));
      const dilations = attrInts(node, 'dilations', new Array(spatial).fill(1));
      const pads = attrInts(node, 'pads', new Array(2 * spatial).fill(0));
      const channels = op === 'Conv' ? need(inputs[1], 'W').shape[0] : xs[1];
      const out = [xs[0], channels];
      for (let i = 0; i < spatial; i++) out.push(windowOut(xs[2 + i], kernel[i], strides[i], dilations[i], pads[i], pads[spatial + i]));
      const result: ValueInfo[] = [{ dtype: need(x, 'X').dtype, shape: out }];
      if (op === 'MaxPool' && (node.output?.length ?? 1) > 1) result.push({ dtype: 'int64', shape: [...out] });
      return result;
    }
    case 'ConvTranspose': {
      const xs = need(x, 'X').shape;
      const w = need(inputs[1], 'W').shape;
      const spatial = xs.length - 2;
      const kernel = attrInts(node, 'kernel_shape', w.slice(2));
      const strides = attrInts(node, 'strides', new Array(spatial).fill(1));
      const dilations = attrInts(node, 'dilations', new Array(spatial).fill(1));
      const pads = attrInts(node, 'pads', new Array(2 * spatial).fill(0));
      const outputPadding = attrInts(node, 'output_padding', new Array(spatial).fill(0));
      const explicit = attrInts(node, 'output_shape', []);
      const out = [xs[0], w[1] * attrInt(node, 'group', 1)];
      for (let i = 0; i < spatial; i++) {
        out.push(
          explicit.length > 0
            ? explicit[explicit.length - spatial + i]
            : strides[i] * (xs[2 + i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[spatial + i],
        );
      }
      return one(out);
    }
    case 'Transpose': {
      const xs = need(x, 'input').shape;
      const perm = attrInts(node, 'perm', xs.map((_, i) => xs.length - 1 - i));
      return one(perm.map((p) => xs[p]));
    }
    case 'Reshape': {
      const xs = need(x, 'input').shape;
      const target = constOf(1, 'shape');
      const out = target.map((d, i) => (d === 0 ? xs[i] : d));
      const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const total = xs.reduce((a, b) => a * b, 1);
      return one(out.map((d) => (d === -1 ? total / known : d)));
    }
    case 'Flatten': {
      const xs = need(x, 'input').shape;
      const axis = normAxis(attrInt(node, 'axis', 1), xs.length);
      return one([xs.slice(0, axis).reduce((a, b) => a * b, 1), xs.slice(axis).reduce((a, b) => a * b, 1)]);
    }
    case 'Expand':
      return one(broadcastShapes([need(x, 'input').shape, constOf(1, 'shape')]));
    case 'Concat': {
      const shapes = inputs.map((v) => need(v, 'input').shape);
      const axis = normAxis(attrInt(node, 'axis', 0), shapes[0].length);
      const out = [...shapes[0]];
      out[axis] = shapes.reduce((s, sh) => s + sh[axis], 0);
      return one(out);
    }
    case 'Split': {
      const xs = need(x, 'input').shape;
      const axis = normAxis(attrInt(node, 'axis', 0), xs.length);
      const count = node.output?.length ?? 1;
      const sizes = inputs[1] ? constOf(1, 'split') : new Array(count).fill(xs[axis] / count);
      return sizes.map((size) => ({ dtype: need(x, 'input').dtype, shape: xs.map((d, i) => (i === axis ? size : d)) }));
    }
    case 'Slice': {
      const xs = need(x, 'input').shape;
      const starts = constOf(1, 'starts');
      const ends = constOf(2, 'ends');
      const axes = inputs[3] ? constOf(3, 'axes') : starts.map((_, i) => i);
      const out = [...xs];
      axes.forEach((a, i) => {
        const axis = normAxis(a, xs.length);
        const clamp = (v: number) => Math.max(0, Math.min(xs[axis], v < 0 ? v + xs[axis] : v));
        out[axis] = Math.max(0, clamp(ends[i]) - clamp(starts[i]));
      });
      if (inputs[4]) throw new Error(`Slice '${node.name}': steps are not supported`);
      return one(out);
    }
    case 'Squeeze': {
      const xs = need(x, 'input').shape;
      const axes = (inputs[1] ? constOf(1, 'axes') : xs.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => normAxis(a, xs.length));
      return one(xs.filter((_, i) => !axes.includes(i)));
    }
    case 'Unsqueeze': {
      const xs = need(x, 'input').shape;
      const rank = xs.length + constOf(1, 'axes').length;
      const axes = constOf(1, 'axes').map((a) => normAxis(a, rank));
      const out: number[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : xs[k++]);
      return one(out);
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceSumSquare':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceL2': {
      const xs = need(x, 'input').shape;
      const fromInput = op === 'ReduceSum';
      const listed = fromInput ? (inputs[1] ? constOf(1, 'axes') : []) : attrInts(node, 'axes', []);
      const axes = (listed.length > 0 ? listed : xs.map((_, i) => i)).map((a) => normAxis(a, xs.length));
      const keep = attrInt(node, 'keepdims', 1) === 1;
      return one(keep ? xs.map((d, i) => (axes.includes(i) ? 1 : d)) : xs.filter((_, i) => !axes.includes(i)));
    }
    case 'ArgMax': {
      const xs = need(x, 'input').shape;
      const axis = normAxis(attrInt(node, 'axis', 0), xs.length);
      const keep = attrInt(node, 'keepdims', 1) === 1;
      return one(keep ? xs.map((d, i) => (i === axis ? 1 : d)) : xs.filter((_, i) => i !== axis), 'int64');
    }
    case 'Pad': {
      const xs = need(x, 'input').shape;
      const pads = constOf(1, 'pads');
      return one(xs.map((d, i) => d + pads[i] + pads[xs.length + i]));
    }
    case 'GatherElements':
      return one([...need(inputs[1], 'indices').shape], need(x, 'data').dtype);
    case 'ScatterElements':
      return one([...need(x, 'data').shape]);
    default:
      throw new Error(`training graph: operator '${op}' has no shape rule`);
  }
}
