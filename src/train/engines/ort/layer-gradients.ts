/**
 * Gradient rules of the operators that carry a layer's weights (Gemm, MatMul, Conv,
 * ConvTranspose) and of MaxPool, for ./autodiff.ts. Each rule is written with standard ONNX
 * operators and computes only the gradients asked for.
 */
import type { onnx } from 'onnx-proto';
import type { TrainingGraph } from './graph';
import { NoGradientError, unbroadcast } from './gradient-rule';
import type { GradientRule } from './gradient-rule';
import { attrFloat, attrInt, attrInts } from './shapes';

/** Gradient w.r.t. the weights of a convolution: X [N,C,H,W], dY [N,M,OH,OW] -> [M,C,kh,kw]. */
function convWeightGradient(
  g: TrainingGraph,
  x: string,
  dy: string,
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  padsBegin: readonly number[],
): string {
  const xs = g.shape(x);
  const ys = g.shape(dy);
  // dW[m,c,i,j] = sum_{n,oh,ow} dY[n,m,oh,ow] X[n,c,oh*s+i*d-p, ow*s+j*d-p]: a convolution of X
  // (batch and channels swapped) by dY (likewise), with the roles of stride and dilation swapped.
  const xt = g.node('Transpose', [x], 'grad/conv_x_t', { perm: [1, 0, 2, 3] });
  const dyt = g.node('Transpose', [dy], 'grad/conv_dy_t', { perm: [1, 0, 2, 3] });
  const padsEnd = [0, 1].map((i) => Math.max(0, (kernel[i] - 1) * dilations[i] + (ys[2 + i] - 1) * strides[i] + 1 - xs[2 + i] - padsBegin[i]));
  let r = g.node('Conv', [xt, dyt], 'grad/conv_w', {
    kernel_shape: [ys[2], ys[3]],
    strides: [...dilations],
    dilations: [...strides],
    pads: [...padsBegin, ...padsEnd],
    group: 1,
  });
  const rs = g.shape(r);
  if (rs[2] !== kernel[0] || rs[3] !== kernel[1]) {
    r = g.node('Slice', [r, g.ints([0, 0]), g.ints([kernel[0], kernel[1]]), g.ints([2, 3])], 'grad/conv_w_crop');
  }
  return g.node('Transpose', [r], 'grad/conv_w_t', { perm: [1, 0, 2, 3] });
}

interface WindowAttributes {
  strides: number[];
  dilations: number[];
  pads: number[];
  kernel: number[];
}

function windowAttributes(g: TrainingGraph, node: onnx.INodeProto): WindowAttributes {
  if (attrInt(node, 'group', 1) !== 1) throw new NoGradientError(`${node.opType} '${node.name}': grouped convolutions have no gradient rule`);
  if (g.shape(node.input![0]).length !== 4) throw new NoGradientError(`${node.opType} '${node.name}': only 2-D convolutions have a gradient rule`);
  const w = g.shape(node.input![1]);
  return {
    kernel: attrInts(node, 'kernel_shape', w.slice(2)),
    strides: attrInts(node, 'strides', [1, 1]),
    dilations: attrInts(node, 'dilations', [1, 1]),
    pads: attrInts(node, 'pads', [0, 0, 0, 0]),
  };
}

function biasGradient(g: TrainingGraph, dy: string): string {
  return g.node('ReduceSum', [dy, g.ints([0, 2, 3])], 'grad/bias', { keepdims: 0 });
}

const conv: GradientRule = (g, node, [dy], wanted) => {
  if (!dy) return [];
  const [x, w] = node.input!;
  const { kernel, strides, dilations, pads } = windowAttributes(g, node);
  const xs = g.shape(x);
  const ys = g.shape(dy);
  let dx: string | undefined;
  if (wanted[0]) {
    // The input gradient is the transposed convolution of dY; output_padding restores the rows
    // the forward convolution's stride skipped at the end.
    const outputPadding = [0, 1].map((i) => xs[2 + i] - (strides[i] * (ys[2 + i] - 1) + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[2 + i]));
    if (outputPadding.some((p, i) => p < 0 || p >= Math.max(strides[i], dilations[i]))) {
      throw new NoGradientError(`Conv '${node.name}': input gradient not expressible as ConvTranspose`);
    }
    dx = g.node('ConvTranspose', [dy, w], 'grad/conv_x', { kernel_shape: kernel, strides, dilations, pads, output_padding: outputPadding, group: 1 });
  }
  const dw = wanted[1] ? convWeightGradient(g, x, dy, kernel, strides, dilations, [pads[0], pads[1]]) : undefined;
  const db = wanted[2] ? biasGradient(g, dy) : undefined;
  return [dx, dw, db];
};

const convTranspose: GradientRule = (g, node, [dy], wanted) => {
  if (!dy) return [];
  const [x, w] = node.input!;
  const { kernel, strides, dilations, pads } = windowAttributes(g, node);
  if (attrInts(node, 'output_shape', []).length > 0) throw new NoGradientError(`ConvTranspose '${node.name}': output_shape has no gradient rule`);
  const xs = g.shape(x);
  const ys = g.shape(dy);
  let dx: string | undefined;
  if (wanted[0]) {
    // Adjoint of the transposed convolution: a plain convolution of dY with the same weights.
    const padsEnd = [0, 1].map((i) => Math.max(0, (xs[2 + i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] - pads[i] - (ys[2 + i] - 1)));
    dx = g.node('Conv', [dy, w], 'grad/convt_x', { kernel_shape: kernel, strides, dilations, pads: [pads[0], pads[1], ...padsEnd], group: 1 });
  }
  // W [Cin, Cout, kh, kw]: the weight gradient of a convolution whose input is dY and whose output
  // gradient is X (a transposed convolution is that convolution's input gradient).
  const dw = wanted[1] ? convWeightGradient(g, dy, x, kernel, strides, dilations, [pads[0], pads[1]]) : undefined;
  const db = wanted[2] ? biasGradient(g, dy) : undefined;
  return [dx, dw, db];
};

const gemm: GradientRule = (g, node, [dy], wanted) => {
  if (!dy) return [];
  const [a, b, c] = node.input!;
  if (attrFloat(node, 'alpha', 1) !== 1 || attrFloat(node, 'beta', 1) !== 1) throw new NoGradientError(`Gemm '${node.name}': alpha/beta other than 1`);
  const transA = attrInt(node, 'transA', 0);
  const transB = attrInt(node, 'transB', 0);
  let da: string | undefined;
  let db: string | undefined;
  if (wanted[0]) {
    da = transA
      ? g.node('Gemm', [b, dy], 'grad/gemm_a', { transA: transB, transB: 1 })
      : g.node('Gemm', [dy, b], 'grad/gemm_a', { transB: transB ? 0 : 1 });
  }
  if (wanted[1]) {
    db = transB
      ? g.node('Gemm', [dy, a], 'grad/gemm_b', { transA: 1, transB: transA })
      : g.node('Gemm', [a, dy], 'grad/gemm_b', { transA: transA ? 0 : 1 });
  }
  const dc = wanted[2] && c ? unbroadcast(g, dy, g.shape(c)) : undefined;
  return [da, db, dc];
};

function swapLast(g: TrainingGraph, x: string): string {
  const rank = g.shape(x).length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return g.node('Transpose', [x], 'grad/swap', { perm });
}

const matMul: GradientRule = (g, node, [dy], wanted) => {
  if (!dy) return [];
  const [a, b] = node.input!;
  const as = g.shape(a);
  const bs = g.shape(b);
  if (as.length === 2 && bs.length === 2) {
    return [
      wanted[0] ? g.node('Gemm', [dy, b], 'grad/matmul_a', { transB: 1 }) : undefined,
      wanted[1] ? g.node('Gemm', [a, dy], 'grad/matmul_b', { transA: 1 }) : undefined,
    ];
  }
  return [
    wanted[0] ? unbroadcast(g, g.node('MatMul', [dy, swapLast(g, b)], 'grad/matmul_a'), as) : undefined,
    wanted[1] ? unbroadcast(g, g.node('MatMul', [swapLast(g, a), dy], 'grad/matmul_b'), bs) : undefined,
  ];
};

const maxPool: GradientRule = (g, node, [dy], wanted) => {
  if (!dy || !wanted[0]) return [];
  const x = node.input![0];
  const xs = g.shape(x);
  // Route dY to the arg-max of each window: recompute the pool with its flat indices, then
  // scatter-add (windows may overlap when the stride is smaller than the kernel).
  const attributes = {
    kernel_shape: attrInts(node, 'kernel_shape', []),
    strides: attrInts(node, 'strides', [1, 1]),
    pads: attrInts(node, 'pads', [0, 0, 0, 0]),
    dilations: attrInts(node, 'dilations', [1, 1]),
  };
  const [, indices] = g.nodeMulti('MaxPool', [x], ['grad/pool_values', 'grad/pool_indices'], attributes);
  const total = xs.reduce((a, b) => a * b, 1);
  const zeros = g.node('Expand', [g.scalar(0), g.ints([total])], 'grad/pool_zeros');
  const flatIdx = g.node('Reshape', [indices, g.ints([-1])], 'grad/pool_idx');
  const flatDy = g.node('Reshape', [dy, g.ints([-1])], 'grad/pool_dy');
  const scattered = g.node('ScatterElements', [zeros, flatIdx, flatDy], 'grad/pool_scatter', { axis: 0, reduction: 'add' });
  return [g.node('Reshape', [scattered, g.ints(xs)], 'grad/pool')];
};

/** The rules of this file, by operator. */
export const LAYER_RULES: Readonly<Record<string, GradientRule>> = Object.freeze({ Gemm: gemm, MatMul: matMul, Conv: conv, ConvTranspose: convTranspose, MaxPool: maxPool });
