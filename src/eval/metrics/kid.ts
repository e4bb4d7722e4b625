/**
 * KID, the kernel inception distance (Bińkowski et al. 2018, "Demystifying MMD GANs"): the
 * unbiased estimate of the squared maximum mean discrepancy between two sets of feature vectors
 * under the cubic polynomial kernel k(x, y) = (x·y / d + 1)^3, averaged over random subsets, as
 * torchmetrics' `KernelInceptionDistance` and torch-fidelity compute it. Unlike FID it is unbiased,
 * so its value at 500 images estimates the same number as at 50,000: the honest score for small sets.
 *
 * The three m×m kernel matrices per subset (m = 1,000 by default, d = 2,048 for Inception) are
 * the whole cost, so they run as one small ONNX graph on onnxruntime, in float64 (the difference
 * of kernel means cancels most of their digits: float32 would leave ~1e-3 relative error). A
 * subset of 1,000 took 6 ms at d = 128 and 190 ms at d = 2,048 on 2 cores (pure JS: ~180 ms at
 * d = 128), so the default 100 subsets cost 0.6 s and 19 s.
 */
import { onnx } from 'onnx-proto';
import { AekitError } from '../../core/errors';
import { Rng } from '../../core/rng';
import { encodeModel } from '../../artifact/onnx-io';
import { openOrtSession } from '../../artifact/runtime';
import type { OrtSessionHandle } from '../../artifact/runtime';
import { OnnxGraphBuilder, valueInfo } from '../../export/onnx-graph';

/**
 * torchmetrics' defaults (`KernelInceptionDistance(subsets=100, subset_size=1000)`): 100 subsets of
 * 1,000 rows drawn from each set, without replacement within a subset.
 */
export const KID_DEFAULTS = Object.freeze({ subsets: 100, subsetSize: 1000 });

/** Options of {@link kid}. */
export interface KidOptions {
  /** Subsets averaged (default {@link KID_DEFAULTS}). */
  subsets?: number;
  /** Rows per subset (default {@link KID_DEFAULTS}; capped at the smaller set). */
  subsetSize?: number;
  /** Seed of the subset draws (default 0). */
  seed?: number;
  /** Called after each subset (100 subsets of Inception features take tens of seconds on a CPU). */
  progress?: (done: number, total: number) => void;
}

/** KID of two feature sets. */
export interface KidResult {
  /** Mean of the subsets' unbiased MMD² (what papers report as KID). */
  mean: number;
  /** Standard deviation over the subsets (numpy's `std`: divided by the number of subsets). */
  std: number;
  /** Subsets averaged: 1 when each set has exactly `subsetSize` rows (every subset would be the same). */
  subsets: number;
  /** Rows per subset. */
  subsetSize: number;
}

/** Rows of each set in one subset. */
export interface KidSubset {
  a: Int32Array;
  b: Int32Array;
}

/**
 * KID of `nA` and `nB` feature vectors of length `d` (row-major float32): the mean and standard
 * deviation of the unbiased MMD² over `subsets` subsets of `subsetSize` rows of each set, drawn
 * like torchmetrics (a random permutation of each set per subset, its first `subsetSize` rows)
 * from the seeded stream (seed, 'kid').
 *
 * @throws AekitError BAD_ARGUMENT for sizes that disagree, fewer than 2 rows, or a non-finite
 *   feature; EVAL_FAILED when onnxruntime fails.
 */
export async function kid(a: Float32Array, nA: number, b: Float32Array, nB: number, d: number, options: KidOptions = {}): Promise<KidResult> {
  checkSet(a, nA, d, 'a');
  checkSet(b, nB, d, 'b');
  const subsetSize = Math.min(options.subsetSize ?? KID_DEFAULTS.subsetSize, nA, nB);
  const wanted = options.subsets ?? KID_DEFAULTS.subsets;
  for (const [name, value, min] of [['subsets', wanted, 1], ['subsetSize', subsetSize, 2]] as const) {
    if (!Number.isInteger(value) || value < min) throw new AekitError('BAD_ARGUMENT', `expected a whole number >= ${min}, found ${value}`, { where: `kid(${name})` });
  }
  const whole = subsetSize === nA && subsetSize === nB;
  const rng = Rng.derive(options.seed ?? 0, 'kid');
  const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const subsets: KidSubset[] = whole
    ? [{ a: all(nA), b: all(nB) }]
    : Array.from({ length: wanted }, () => ({ a: rng.permutation(nA).subarray(0, subsetSize), b: rng.permutation(nB).subarray(0, subsetSize) }));
  const values = await mmdOfSubsets(a, b, d, subsets, options.progress);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  return { mean, std, subsets: values.length, subsetSize };
}

/**
 * The unbiased MMD² of each subset (rows of `a` and `b` given by index; both of one size m >= 2):
 * [Σ_{i≠j} k(x_i, x_j) + Σ_{i≠j} k(y_i, y_j)] / (m(m-1)) - 2 Σ_{i,j} k(x_i, y_j) / m².
 */
export async function mmdOfSubsets(a: Float32Array, b: Float32Array, d: number, subsets: readonly KidSubset[], progress?: (done: number, total: number) => void): Promise<number[]> {
  const session = await openOrtSession('ort-node-cpu', mmdGraph(d));
  try {
    const out: number[] = [];
    for (const subset of subsets) {
      const m = subset.a.length;
      if (subset.b.length !== m || m < 2) throw new AekitError('BAD_ARGUMENT', `expected two index sets of one size >= 2, found ${subset.a.length} and ${subset.b.length}`, { where: 'mmdOfSubsets' });
      const feed = (source: Float32Array, rows: Int32Array) => {
        const data = new Float32Array(m * d);
        rows.forEach((r, i) => data.set(source.subarray(r * d, (r + 1) * d), i * d));
        return { dtype: 'float32' as const, data, dims: [m, d] };
      };
      let result: { data: Float32Array }[];
      try {
        result = await session.run({ x: feed(a, subset.a), y: feed(b, subset.b), numbers: { dtype: 'float32', data: Float32Array.of(m, d, 1, 2), dims: [4] } });
      } catch (error) {
        throw new AekitError('EVAL_FAILED', `the KID kernel graph failed: ${(error as Error).message}`, { where: 'mmdOfSubsets', cause: error });
      }
      out.push(result[0].data[0]);
      progress?.(out.length, subsets.length);
    }
    return out;
  } finally {
    await session.release();
  }
}

/**
 * The graph of one subset's MMD², computed in float64 from float32 features. Its numbers input
 * is [m, d, 1, 2] (exact in float32), so that the graph needs no float64 constants, which aekit's
 * graph builder does not write. The result is rounded to float32 only at the end.
 */
function mmdGraph(d: number): Uint8Array {
  const g = new OnnxGraphBuilder();
  for (const name of ['x', 'y', 'numbers']) g.reserve(name);
  const double = onnx.TensorProto.DataType.DOUBLE;
  const numbers = g.node('Cast', ['numbers'], 'numbers_f64', { to: double });
  const scalar = (i: number, name: string) => g.node('Gather', [numbers, g.constant(`index_${i}`, 'int64', [], [i])], name, { axis: 0 });
  const [m, dim, one, two] = [scalar(0, 'm'), scalar(1, 'd'), scalar(2, 'one'), scalar(3, 'two')];
  const cube = (t: string, name: string) => g.node('Mul', [g.node('Mul', [t, t], `${name}_sq`), t], `${name}_cube`);
  const kernelSum = (u: string, v: string, name: string) => {
    const dot = g.node('MatMul', [u, g.node('Transpose', [v], `${name}_vt`, { perm: [1, 0] })], `${name}_dot`);
    return g.node('ReduceSum', [cube(g.node('Add', [g.node('Div', [dot, dim], `${name}_scaled`), one], `${name}_base`), name)], `${name}_sum`, { keepdims: 0 });
  };
  // Σ_i k(x_i, x_i): the diagonal left out of the unbiased within-set sums.
  const trace = (u: string, name: string) => {
    const norms = g.node('ReduceSum', [g.node('Mul', [u, u], `${name}_sq`), g.constant('axis_1', 'int64', [1], [1])], `${name}_norms`, { keepdims: 0 });
    return g.node('ReduceSum', [cube(g.node('Add', [g.node('Div', [norms, dim], `${name}_scaled`), one], `${name}_base`), `${name}_diag`)], `${name}_trace`, { keepdims: 0 });
  };
  const x = g.node('Cast', ['x'], 'x_f64', { to: double });
  const y = g.node('Cast', ['y'], 'y_f64', { to: double });
  const within = g.node('Add', [g.node('Sub', [kernelSum(x, x, 'kxx'), trace(x, 'x')], 'kxx_off'), g.node('Sub', [kernelSum(y, y, 'kyy'), trace(y, 'y')], 'kyy_off')], 'within');
  const pairs = g.node('Mul', [m, g.node('Sub', [m, one], 'm_minus_1')], 'pairs');
  const across = g.node('Div', [g.node('Mul', [two, kernelSum(x, y, 'kxy')], 'kxy_twice'), g.node('Mul', [m, m], 'm_squared')], 'across');
  const mmd = g.node('Sub', [g.node('Div', [within, pairs], 'within_mean'), across], 'mmd');
  g.node('Reshape', [g.node('Cast', [mmd], 'mmd_f32', { to: onnx.TensorProto.DataType.FLOAT }), g.constant('shape_1', 'int64', [1], [1])], 'mmd2');
  const graph = onnx.GraphProto.create({
    name: 'kid-mmd2',
    node: g.nodes,
    initializer: g.initializers,
    input: [valueInfo('x', 'float32', ['m', d]), valueInfo('y', 'float32', ['m', d]), valueInfo('numbers', 'float32', [4])],
    output: [valueInfo('mmd2', 'float32', [1])],
  });
  return encodeModel(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph }));
}

function checkSet(features: Float32Array, n: number, d: number, name: string): void {
  const where = `kid(${name})`;
  if (!Number.isInteger(d) || d < 1) throw new AekitError('BAD_ARGUMENT', `expected a feature dimension >= 1, found ${d}`, { where: 'kid(d)' });
  if (!Number.isInteger(n) || n < 2) throw new AekitError('BAD_ARGUMENT', `expected at least 2 feature vectors, found ${n}`, { where });
  if (features.length !== n * d) throw new AekitError('BAD_ARGUMENT', `expected n*d = ${n}*${d} = ${n * d} values, found ${features.length}`, { where });
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) throw new AekitError('BAD_ARGUMENT', `expected finite features, found ${features[i]} at row ${Math.floor(i / d)}, column ${i % d}`, { where });
  }
}
