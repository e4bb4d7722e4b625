/**
 * Reverse-mode differentiation of a {@link TrainingGraph}: appends to the graph the nodes that
 * compute d(loss)/d(value) for chosen values (the trained parameters). Only nodes on a path from
 * those values to the loss are differentiated, and only the operands that need a gradient get one.
 * Each operator's rule is written with standard ONNX operators, so the whole step (forward,
 * backward, optimizer) is one graph that onnxruntime runs without leaving native code. The rules
 * of element-wise, shape and reduction operators are here; those of the layer operators (Gemm,
 * MatMul, Conv, ConvTranspose, MaxPool) in ./layer-gradients.ts.
 */
import type { onnx } from 'onnx-proto';
import type { TrainingGraph } from './graph';
import { NoGradientError, reshapeTo, unbroadcast } from './gradient-rule';
import type { GradientRule } from './gradient-rule';
import { LAYER_RULES } from './layer-gradients';
import { attrFloat, attrInt, attrInts } from './shapes';

const ZERO = (g: TrainingGraph) => g.scalar(0);
const ONE = (g: TrainingGraph) => g.scalar(1);

/** Rules for ops of the form y = f(x) whose gradient is dy * f'(x). */
function unary(rule: (g: TrainingGraph, x: string, y: string, dy: string, node: onnx.INodeProto) => string): GradientRule {
  return (g, node, [dy], wanted) => [wanted[0] && dy ? rule(g, node.input![0], node.output![0], dy, node) : undefined];
}

/** Gradient of a reduction's input: dY broadcast back over the reduced axes (scaled for means). */
function reduction(kind: 'sum' | 'mean' | 'sumSquare'): GradientRule {
  return (g, node, [dy], wanted) => {
    if (!dy || !wanted[0]) return [];
    const x = node.input![0];
    const xs = g.shape(x);
    const listed = node.opType === 'ReduceSum' ? (node.input![1] ? g.constantValues(node.input![1])! : []) : attrInts(node, 'axes', []);
    const axes = (listed.length > 0 ? listed : xs.map((_, i) => i)).map((a) => (a < 0 ? a + xs.length : a));
    const kept = reshapeTo(g, dy, xs.map((d, i) => (axes.includes(i) ? 1 : d)));
    if (kind === 'sumSquare') return [g.node('Mul', [x, g.node('Mul', [kept, g.scalar(2)], 'grad/two_dy')], 'grad/sum_square')];
    const count = axes.reduce((n, a) => n * xs[a], 1);
    const scaled = kind === 'mean' ? g.node('Mul', [kept, g.scalar(1 / count)], 'grad/mean_scale') : kept;
    return [g.node('Expand', [scaled, g.ints(xs)], 'grad/expand')];
  };
}

/**
 * Max / Min of two operands, with tfjs's tie rule (tf.maximum's gradient goes to `a` where a >= b,
 * tf.minimum's where a <= b), so that both engines agree even on ties such as free bits' floor.
 */
function extremum(firstWins: 'GreaterOrEqual' | 'LessOrEqual'): GradientRule {
  return (g, node, [dy], wanted) => {
    if (!dy) return [];
    if (node.input!.length !== 2) throw new NoGradientError(`${node.opType} '${node.name}': only two operands have a gradient rule`);
    const [a, b] = node.input!;
    const mask = g.node(firstWins, [a, b], 'grad/extremum_mask');
    return [
      wanted[0] ? unbroadcast(g, g.node('Where', [mask, dy, ZERO(g)], 'grad/extremum_a'), g.shape(a)) : undefined,
      wanted[1] ? unbroadcast(g, g.node('Where', [mask, ZERO(g), dy], 'grad/extremum_b'), g.shape(b)) : undefined,
    ];
  };
}

const reshapeLike: GradientRule = (g, node, [dy], wanted) => [wanted[0] && dy ? reshapeTo(g, dy, g.shape(node.input![0])) : undefined];

const RULES: Readonly<Record<string, GradientRule>> = Object.freeze({
  Identity: unary((_g, _x, _y, dy) => dy),
  Neg: unary((g, _x, _y, dy) => g.node('Neg', [dy], 'grad/neg')),
  Exp: unary((g, _x, y, dy) => g.node('Mul', [dy, y], 'grad/exp')),
  Log: unary((g, x, _y, dy) => g.node('Div', [dy, x], 'grad/log')),
  Sqrt: unary((g, _x, y, dy) => g.node('Div', [dy, g.node('Mul', [y, g.scalar(2)], 'grad/two_y')], 'grad/sqrt')),
  Reciprocal: unary((g, _x, y, dy) => g.node('Neg', [g.node('Mul', [dy, g.node('Mul', [y, y], 'grad/y2')], 'grad/recip_')], 'grad/recip')),
  Abs: unary((g, x, _y, dy) => g.node('Mul', [dy, g.node('Sign', [x], 'grad/sign')], 'grad/abs')),
  // dy * step(y), tfjs's own Relu gradient, the step as Cast(y > 0): onnxruntime's Where (with a
  // broadcast zero) was the slowest elementwise kernel of the conv step, and Sign(y), tried first,
  // slower still (docs/benchmarks.md, "Speed-ups tried for issue 21").
  Relu: unary((g, _x, y, dy) => g.node('Mul', [dy, g.node('Cast', [g.node('Greater', [y, ZERO(g)], 'grad/relu_mask')], 'grad/relu_step', { to: 1 })], 'grad/relu')),
  LeakyRelu: unary((g, x, _y, dy, node) => {
    const alpha = attrFloat(node, 'alpha', 0.01);
    // dy * slope, slope = max(step(x), alpha): 1 where x > 0, alpha elsewhere (for 0 <= alpha < 1),
    // so dy * 1 and dy * alpha exactly as tfjs's where(x > 0, dy, dy * alpha), without the Where.
    if (alpha >= 0 && alpha < 1) return g.node('Mul', [dy, g.node('Max', [g.node('Cast', [g.node('Greater', [x, ZERO(g)], 'grad/lrelu_mask')], 'grad/lrelu_step', { to: 1 }), g.scalar(alpha)], 'grad/lrelu_slope')], 'grad/lrelu');
    return g.node('Where', [g.node('Greater', [x, ZERO(g)], 'grad/lrelu_mask'), dy, g.node('Mul', [dy, g.scalar(alpha)], 'grad/lrelu_neg')], 'grad/lrelu');
  }),
  Elu: unary((g, x, y, dy, node) =>
    g.node('Where', [g.node('Greater', [x, ZERO(g)], 'grad/elu_mask'), dy, g.node('Mul', [dy, g.node('Add', [y, g.scalar(attrFloat(node, 'alpha', 1))], 'grad/elu_d')], 'grad/elu_neg')], 'grad/elu'),
  ),
  Sigmoid: unary((g, _x, y, dy) => g.node('Mul', [dy, g.node('Mul', [y, g.node('Sub', [ONE(g), y], 'grad/one_minus_y')], 'grad/dsig')], 'grad/sigmoid')),
  Tanh: unary((g, _x, y, dy) => g.node('Mul', [dy, g.node('Sub', [ONE(g), g.node('Mul', [y, y], 'grad/y2')], 'grad/dtanh')], 'grad/tanh')),
  Softplus: unary((g, x, _y, dy) => g.node('Mul', [dy, g.node('Sigmoid', [x], 'grad/softplus_d')], 'grad/softplus')),
  Clip: (g, node, [dy], wanted) => {
    if (!dy || !wanted[0]) return [];
    const [x, lo, hi] = node.input!;
    let mask: string | undefined;
    if (lo) mask = g.node('GreaterOrEqual', [x, lo], 'grad/clip_lo');
    if (hi) {
      const below = g.node('LessOrEqual', [x, hi], 'grad/clip_hi');
      mask = mask ? g.node('And', [mask, below], 'grad/clip_mask') : below;
    }
    return [mask ? g.node('Where', [mask, dy, ZERO(g)], 'grad/clip') : dy];
  },
  Softmax: (g, node, [dy], wanted) => {
    if (!dy || !wanted[0]) return [];
    const y = node.output![0];
    const axis = attrInt(node, 'axis', -1);
    const dot = g.node('ReduceSum', [g.node('Mul', [dy, y], 'grad/dy_y'), g.ints([axis])], 'grad/softmax_dot', { keepdims: 1 });
    return [g.node('Mul', [y, g.node('Sub', [dy, dot], 'grad/softmax_diff')], 'grad/softmax')];
  },
  LogSoftmax: (g, node, [dy], wanted) => {
    if (!dy || !wanted[0]) return [];
    const y = node.output![0];
    const axis = attrInt(node, 'axis', -1);
    const total = g.node('ReduceSum', [dy, g.ints([axis])], 'grad/logsoftmax_sum', { keepdims: 1 });
    return [g.node('Sub', [dy, g.node('Mul', [g.node('Exp', [y], 'grad/softmax_p'), total], 'grad/logsoftmax_p')], 'grad/logsoftmax')];
  },
  Add: (g, node, [dy], wanted) => (dy ? node.input!.map((v, i) => (wanted[i] ? unbroadcast(g, dy, g.shape(v)) : undefined)) : []),
  Sum: (g, node, [dy], wanted) => (dy ? node.input!.map((v, i) => (wanted[i] ? unbroadcast(g, dy, g.shape(v)) : undefined)) : []),
  Sub: (g, node, [dy], wanted) => {
    if (!dy) return [];
    const [a, b] = node.input!;
    return [wanted[0] ? unbroadcast(g, dy, g.shape(a)) : undefined, wanted[1] ? g.node('Neg', [unbroadcast(g, dy, g.shape(b))], 'grad/sub') : undefined];
  },
  Mul: (g, node, [dy], wanted) => {
    if (!dy) return [];
    const [a, b] = node.input!;
    return [
      wanted[0] ? unbroadcast(g, g.node('Mul', [dy, b], 'grad/mul_a'), g.shape(a)) : undefined,
      wanted[1] ? unbroadcast(g, g.node('Mul', [dy, a], 'grad/mul_b'), g.shape(b)) : undefined,
    ];
  },
  Div: (g, node, [dy], wanted) => {
    if (!dy) return [];
    const [a, b] = node.input!;
    const y = node.output![0];
    return [
      wanted[0] ? unbroadcast(g, g.node('Div', [dy, b], 'grad/div_a'), g.shape(a)) : undefined,
      wanted[1] ? unbroadcast(g, g.node('Neg', [g.node('Mul', [dy, g.node('Div', [y, b], 'grad/y_over_b')], 'grad/div_b_')], 'grad/div_b'), g.shape(b)) : undefined,
    ];
  },
  Where: (g, node, [dy], wanted) => {
    if (!dy) return [];
    const [c, a, b] = node.input!;
    return [
      undefined,
      wanted[1] ? unbroadcast(g, g.node('Where', [c, dy, ZERO(g)], 'grad/where_a'), g.shape(a)) : undefined,
      wanted[2] ? unbroadcast(g, g.node('Where', [c, ZERO(g), dy], 'grad/where_b'), g.shape(b)) : undefined,
    ];
  },
  Max: extremum('GreaterOrEqual'),
  Min: extremum('LessOrEqual'),
  Cast: unary((_g, _x, _y, dy) => dy),
  Expand: (g, node, [dy], wanted) => [wanted[0] && dy ? unbroadcast(g, dy, g.shape(node.input![0])) : undefined],
  Transpose: (g, node, [dy], wanted) => {
    if (!dy || !wanted[0]) return [];
    const rank = g.shape(dy).length;
    const perm = attrInts(node, 'perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => (inverse[p] = i));
    return [g.node('Transpose', [dy], 'grad/transpose', { perm: inverse })];
  },
  Reshape: reshapeLike,
  Flatten: reshapeLike,
  Squeeze: reshapeLike,
  Unsqueeze: reshapeLike,
  Concat: (g, node, [dy], wanted) => {
    if (!dy || !wanted.some(Boolean)) return [];
    const rank = g.shape(dy).length;
    const axis = (attrInt(node, 'axis', 0) + rank) % rank;
    const sizes = node.input!.map((v) => g.shape(v)[axis]);
    return g.nodeMulti('Split', [dy, g.ints(sizes)], sizes.map(() => 'grad/concat'), { axis });
  },
  Split: (g, node, dys, wanted) => {
    if (!wanted[0] || dys.every((d) => !d)) return [];
    const parts = node.output!.map((o, i) => dys[i] ?? g.node('Expand', [ZERO(g), g.ints(g.shape(o))], 'grad/split_zero'));
    return [g.node('Concat', parts, 'grad/split', { axis: attrInt(node, 'axis', 0) })];
  },
  Slice: (g, node, [dy], wanted) => {
    if (!dy || !wanted[0]) return [];
    const x = node.input![0];
    const xs = g.shape(x);
    const starts = g.constantValues(node.input![1])!;
    const axes = node.input![3] ? g.constantValues(node.input![3])! : starts.map((_, i) => i);
    const begin = new Array<number>(xs.length).fill(0);
    axes.forEach((a, i) => {
      const axis = a < 0 ? a + xs.length : a;
      begin[axis] = Math.max(0, Math.min(xs[axis], starts[i] < 0 ? starts[i] + xs[axis] : starts[i]));
    });
    const ds = g.shape(dy);
    const end = xs.map((d, i) => d - begin[i] - ds[i]);
    return [g.node('Pad', [dy, g.ints([...begin, ...end])], 'grad/slice', { mode: 'constant' })];
  },
  ReduceSum: reduction('sum'),
  ReduceMean: reduction('mean'),
  ReduceSumSquare: reduction('sumSquare'),
  ...LAYER_RULES,
});

/** Operators that have a gradient rule. */
export const DIFFERENTIABLE_OPS: readonly string[] = Object.freeze(Object.keys(RULES).sort());

/** Operators whose outputs carry no gradient (comparisons, integer results). */
const NON_DIFFERENTIABLE = new Set(['Greater', 'Less', 'Equal', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Not', 'ArgMax', 'IsNaN', 'IsInf', 'Sign', 'Floor', 'Round']);

function isFloat(g: TrainingGraph, name: string): boolean {
  const t = g.info(name).dtype;
  return t === 'float32' || t === 'float16';
}

/**
 * Append the gradient of the scalar `loss` with respect to each of `wrt` to the graph; returns the
 * gradient value names in the order of `wrt`. A value the loss does not depend on gets zeros.
 *
 * @throws NoGradientError when an operator on the path has no rule
 */
export function gradients(g: TrainingGraph, loss: string, wrt: readonly string[]): string[] {
  if (g.shape(loss).length !== 0) throw new Error(`gradients: loss '${loss}' must be a scalar, has shape [${g.shape(loss).join(', ')}]`);
  const forward = [...g.nodes];
  // Values that depend on a differentiated value.
  const varying = new Set<string>(wrt);
  for (const node of forward) {
    if (NON_DIFFERENTIABLE.has(node.opType ?? '') || node.output!.some((o) => g.isStopped(o))) continue;
    if (node.input!.some((v) => varying.has(v))) for (const o of node.output!) if (isFloat(g, o)) varying.add(o);
  }
  // Values the loss depends on through varying values.
  const useful = new Set<string>([loss]);
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    if (!node.output!.some((o) => useful.has(o))) continue;
    for (const v of node.input!) if (varying.has(v)) useful.add(v);
  }

  const contributions = new Map<string, string[]>();
  const add = (name: string, grad: string) => {
    const list = contributions.get(name) ?? [];
    list.push(grad);
    contributions.set(name, list);
  };
  const total = (name: string): string | undefined => {
    const list = contributions.get(name);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    const summed = g.node('Sum', list, `grad/acc`);
    contributions.set(name, [summed]);
    return summed;
  };
  add(loss, ONE(g));

  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    const op = node.opType ?? '';
    if (!node.output!.some((o) => useful.has(o) && contributions.has(o))) continue;
    const wanted = node.input!.map((v) => v !== '' && useful.has(v) && varying.has(v));
    if (!wanted.some(Boolean)) continue;
    const rule = RULES[op];
    if (!rule) throw new NoGradientError(`operator '${op}' (node '${node.name}') has no gradient rule; differentiable: ${DIFFERENTIABLE_OPS.join(', ')}`);
    const dOutputs = node.output!.map((o) => total(o));
    const dInputs = rule(g, node, dOutputs, wanted);
    node.input!.forEach((v, k) => {
      const d = dInputs[k];
      if (wanted[k] && d) add(v, d);
    });
  }
  return wrt.map((w) => total(w) ?? g.node('Expand', [ZERO(g), g.ints(g.shape(w))], 'grad/unused'));
}
