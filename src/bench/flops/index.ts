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
 * Shapes are propagated through the graph with the batch-bound dimensions of the inputs (see
 * ../dims.ts: `batch`, `N`, `batch_size`, ... or the first axis) set to the batch size (FLOPs of
 * most models grow linearly with it, but counting per batch avoids assuming so). An op whose output
 * shape cannot be inferred is listed in {@link FlopCount.uncounted}; its FLOPs and those of
 * everything downstream that needs its shape are left out, so the total is a lower bound, and
 * unknown when nothing was counted ({@link knownFlops}).
 *
 * The rules live by operator family: linear.ts (Gemm, MatMul), windows.ts (Conv, ConvTranspose,
 * pooling), elementwise.ts (activations, arithmetic, normalisation), movement.ts (reshaping ops).
 */
import { onnx } from 'onnx-proto';
import { decodeModel } from '../../artifact/onnx-io';
import { float32Data, int64ToNumber } from '../../export/onnx-graph';
import { bindShape } from '../dims';
import { ELEMENTWISE_RULES } from './elementwise';
import { LINEAR_RULES } from './linear';
import { MOVEMENT_RULES } from './movement';
import { attributes } from './node';
import type { FlopRule, Shape } from './node';
import { WINDOW_RULES } from './windows';

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
  /** Value of the batch-bound dimensions (default 1). */
  batch?: number;
  /** Values of other symbolic dimensions, by name. */
  dims?: Record<string, number>;
  /** Concrete shapes of the graph inputs, by name: used as given, instead of `batch` and `dims`. */
  inputShapes?: Record<string, number[]>;
}

/** A FLOP count as a figure to report: the total, null when unknown, and whether it is a lower bound. */
export interface KnownFlops {
  /** Total FLOPs; null when nodes were left out and nothing was counted (unknown, never 0). */
  flops: number | null;
  /** Some nodes were left out but others counted: the total is a lower bound. */
  lowerBound: boolean;
  uncounted: string[];
}

/**
 * What a count says: a graph whose every node was sized has exactly `total` FLOPs (0 for pure data
 * movement); one where nodes were left out has at least `total`, or unknown FLOPs when that is 0.
 */
export function knownFlops(count: FlopCount): KnownFlops {
  const partial = count.uncounted.length > 0;
  return { flops: partial && count.total === 0 ? null : count.total, lowerBound: partial && count.total > 0, uncounted: count.uncounted };
}

/** Shape and FLOP rules by op type (a Map: op types come from the file, and must not reach Object's own keys). */
const RULES: ReadonlyMap<string, FlopRule> = new Map(Object.entries({ ...LINEAR_RULES, ...WINDOW_RULES, ...ELEMENTWISE_RULES, ...MOVEMENT_RULES }));

/** Every op type the counter knows the shape rule of. */
export const FLOP_COUNTED_OPS: ReadonlySet<string> = new Set(RULES.keys());

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
    const given = options.inputShapes?.[name];
    if (given) {
      shapes.set(name, [...given]);
      continue;
    }
    const declared = (input.type?.tensorType?.shape?.dim ?? []).map((d) => {
      if (d.dimParam) return d.dimParam;
      const size = d.dimValue !== undefined && d.dimValue !== null ? int64ToNumber(d.dimValue) : 0;
      return size > 0 ? size : null;
    });
    try {
      shapes.set(name, bindShape({ name, shape: declared }, batch, options.dims ?? {}));
    } catch {
      // A symbolic dimension other than the batch without a value leaves the input's shape unknown.
    }
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
      const rule = RULES.get(op);
      if (!rule) throw new Error('op type not supported by the counter');
      const result = rule({
        node,
        op,
        attrs: attributes(node),
        shape: (i) => {
          const s = shapes.get(inputs[i] ?? '');
          if (!s) throw new Error(`shape of input '${inputs[i]}' is unknown`);
          return s;
        },
        constant: (i) => constants.get(inputs[i] ?? ''),
        hasInput: (i) => (inputs[i] ?? '') !== '',
      });
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
