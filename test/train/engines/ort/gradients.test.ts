/**
 * Gradient check of every operator rule of the ort engine's differentiation against central finite
 * differences, on onnxruntime-node. Graphs run in float64 when onnxruntime's CPU provider has
 * double kernels for all of their ops (tight tolerance), else in float32 (looser tolerance).
 */
import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../../../src/core/rng';
import { gradients } from '../../../../src/train/engines/ort/autodiff';
import { TrainingGraph, modelBytes, toFloat64 } from '../../../../src/train/engines/ort/graph';

/** Central-difference step and tolerances (|analytic - numeric| <= abs + rel * |numeric|). */
const FLOAT64 = { step: 1e-5, abs: 1e-7, rel: 1e-5 };
const FLOAT32 = { step: 1e-2, abs: 5e-3, rel: 2e-2 };
/** Elements probed per input (all of them for small inputs). */
const PROBES = 24;

interface InputSpec {
  shape: number[];
  /** Values: uniform in [low, high), optionally kept at least `gap` away from 0 (kinks). */
  low?: number;
  high?: number;
  gap?: number;
}

type Build = (g: TrainingGraph, inputs: string[]) => string;

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
}

function sample(rng: Rng, spec: InputSpec): Float64Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const low = spec.low ?? -1;
  const high = spec.high ?? 1;
  return Float64Array.from({ length: n }, () => {
    for (;;) {
      const v = low + (high - low) * rng.next();
      if (!spec.gap || Math.abs(v) >= spec.gap) return v;
    }
  });
}

/**
 * Build y = op(inputs), loss = sum(y * r) for a fixed random r, differentiate, and compare the
 * gradient of every input with finite differences. Returns the precision used.
 */
async function check(label: string, specs: InputSpec[], build: Build): Promise<'float64' | 'float32'> {
  const rng = new Rng(`gradcheck/${label}`);
  const g = new TrainingGraph();
  const names = specs.map((s, i) => g.input(`x${i}`, 'float32', s.shape));
  const y = build(g, names);
  const yShape = g.shape(y);
  const r = g.tensor('r', yShape, Float32Array.from(sample(rng, { shape: yShape })));
  const loss = g.node('ReduceSum', [g.node('Mul', [y, r], 'weighted')], 'loss', { keepdims: 0 });
  const grads = gradients(g, loss, names);
  const outputs = [loss, ...grads.map((gr) => g.node('Identity', [gr], 'grad_out'))];
  const model = g.toModel(outputs);
  const values = specs.map((s) => sample(rng, s));

  let precision: 'float64' | 'float32' = 'float64';
  let s: ort.InferenceSession;
  try {
    s = await session(modelBytes(toFloat64(model)));
  } catch {
    precision = 'float32';
    s = await session(modelBytes(model));
  }
  const tol = precision === 'float64' ? FLOAT64 : FLOAT32;
  const tensor = (v: Float64Array, shape: number[]) => (precision === 'float64' ? new ort.Tensor('float64', v, shape) : new ort.Tensor('float32', Float32Array.from(v), shape));
  const run = async (vals: Float64Array[]) => {
    const feeds = Object.fromEntries(names.map((n, i) => [n, tensor(vals[i], specs[i].shape)]));
    return s.run(feeds);
  };
  try {
    const base = await run(values);
    for (let i = 0; i < names.length; i++) {
      const analytic = base[outputs[i + 1]].data as Float64Array | Float32Array;
      assert.equal(analytic.length, values[i].length, `${label}: gradient of input ${i} has the input's size`);
      const probes = analytic.length <= PROBES ? [...analytic.keys()] : Array.from({ length: PROBES }, () => rng.int(analytic.length));
      for (const k of probes) {
        const shifted = (delta: number) => values.map((v, j) => (j === i ? v.map((x, m) => (m === k ? x + delta : x)) : v));
        const plus = Number((await run(shifted(tol.step)))[loss].data[0]);
        const minus = Number((await run(shifted(-tol.step)))[loss].data[0]);
        const numeric = (plus - minus) / (2 * tol.step);
        const err = Math.abs(analytic[k] - numeric);
        assert.ok(err <= tol.abs + tol.rel * Math.abs(numeric), `${label} (${precision}): d loss / d x${i}[${k}] analytic ${analytic[k]}, numeric ${numeric}`);
      }
    }
  } finally {
    await s.release();
  }
  return precision;
}

const unaryCases: [string, InputSpec, (g: TrainingGraph, x: string) => string][] = [
  ['Neg', { shape: [3, 4] }, (g, x) => g.node('Neg', [x], 'y')],
  ['Abs', { shape: [3, 4], gap: 0.1 }, (g, x) => g.node('Abs', [x], 'y')],
  ['Identity', { shape: [3, 4] }, (g, x) => g.node('Identity', [x], 'y')],
  ['Squeeze', { shape: [3, 1, 4] }, (g, x) => g.node('Squeeze', [x, g.ints([1])], 'y')],
  ['Unsqueeze', { shape: [3, 4] }, (g, x) => g.node('Unsqueeze', [x, g.ints([0])], 'y')],
  ['Exp', { shape: [3, 4] }, (g, x) => g.node('Exp', [x], 'y')],
  ['Log', { shape: [3, 4], low: 0.5, high: 2 }, (g, x) => g.node('Log', [x], 'y')],
  ['Sqrt', { shape: [3, 4], low: 0.5, high: 2 }, (g, x) => g.node('Sqrt', [x], 'y')],
  ['Reciprocal', { shape: [3, 4], low: 0.5, high: 2 }, (g, x) => g.node('Reciprocal', [x], 'y')],
  ['Relu', { shape: [3, 4], gap: 0.1 }, (g, x) => g.node('Relu', [x], 'y')],
  ['LeakyRelu', { shape: [3, 4], gap: 0.1 }, (g, x) => g.node('LeakyRelu', [x], 'y', { alpha: { f: 0.2 } })],
  ['Elu', { shape: [3, 4], gap: 0.1 }, (g, x) => g.node('Elu', [x], 'y', { alpha: { f: 1 } })],
  ['Sigmoid', { shape: [3, 4], low: -3, high: 3 }, (g, x) => g.node('Sigmoid', [x], 'y')],
  ['Tanh', { shape: [3, 4], low: -2, high: 2 }, (g, x) => g.node('Tanh', [x], 'y')],
  ['Softplus', { shape: [3, 4], low: -2, high: 2 }, (g, x) => g.node('Softplus', [x], 'y')],
  ['Clip', { shape: [4, 5], low: -2, high: 2 }, (g, x) => g.node('Clip', [x, g.scalar(-0.95), g.scalar(0.9)], 'y')],
  ['Softmax', { shape: [3, 5], low: -2, high: 2 }, (g, x) => g.node('Softmax', [x], 'y', { axis: 1 })],
  ['LogSoftmax', { shape: [3, 5], low: -2, high: 2 }, (g, x) => g.node('LogSoftmax', [x], 'y', { axis: 1 })],
  ['Transpose', { shape: [2, 3, 4, 5] }, (g, x) => g.node('Transpose', [x], 'y', { perm: [0, 2, 3, 1] })],
  ['Reshape', { shape: [2, 3, 4] }, (g, x) => g.node('Reshape', [x, g.ints([0, 12])], 'y')],
  ['Flatten', { shape: [2, 3, 2, 2] }, (g, x) => g.node('Flatten', [x], 'y', { axis: 1 })],
  ['Expand', { shape: [1, 4] }, (g, x) => g.node('Expand', [x, g.ints([3, 4])], 'y')],
  ['ReduceSum', { shape: [3, 4, 2] }, (g, x) => g.node('ReduceSum', [x, g.ints([1])], 'y', { keepdims: 0 })],
  ['ReduceMean', { shape: [3, 4, 2] }, (g, x) => g.node('ReduceMean', [x], 'y', { axes: [0, 2], keepdims: 1 })],
  ['ReduceSumSquare', { shape: [3, 4] }, (g, x) => g.node('ReduceSumSquare', [x], 'y', { keepdims: 0 })],
  ['Slice', { shape: [4, 6] }, (g, x) => g.node('Slice', [x, g.ints([1, 2]), g.ints([3, 5]), g.ints([0, 1])], 'y')],
  ['Split', { shape: [3, 7] }, (g, x) => {
    const [a, b] = g.nodeMulti('Split', [x, g.ints([3, 4])], ['a', 'b'], { axis: 1 });
    return g.node('Concat', [b, g.node('Mul', [a, a], 'a2')], 'y', { axis: 1 });
  }],
  ['MaxPool', { shape: [2, 2, 4, 6] }, (g, x) => g.node('MaxPool', [x], 'y', { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] })],
  ['MaxPool (overlapping windows)', { shape: [1, 2, 5, 5] }, (g, x) => g.node('MaxPool', [x], 'y', { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] })],
];

const multiCases: [string, InputSpec[], Build][] = [
  ['Add (broadcast)', [{ shape: [3, 4] }, { shape: [4] }], (g, [a, b]) => g.node('Add', [a, b], 'y')],
  ['Sub (broadcast)', [{ shape: [3, 4] }, { shape: [3, 1] }], (g, [a, b]) => g.node('Sub', [a, b], 'y')],
  ['Mul (broadcast)', [{ shape: [2, 3, 4] }, { shape: [1, 3, 1] }], (g, [a, b]) => g.node('Mul', [a, b], 'y')],
  ['Div', [{ shape: [3, 4] }, { shape: [3, 4], low: 0.5, high: 1.5 }], (g, [a, b]) => g.node('Div', [a, b], 'y')],
  ['Sum', [{ shape: [3, 4] }, { shape: [4] }, { shape: [3, 4] }], (g, ins) => g.node('Sum', ins, 'y')],
  ['Where', [{ shape: [3, 4] }, { shape: [3, 4] }], (g, [a, b]) => g.node('Where', [g.node('Greater', [a, g.scalar(0)], 'c'), a, b], 'y')],
  ['Max (broadcast)', [{ shape: [3, 4] }, { shape: [4] }], (g, [a, b]) => g.node('Max', [a, b], 'y')],
  ['Min', [{ shape: [3, 4] }, { shape: [3, 4] }], (g, [a, b]) => g.node('Min', [a, b], 'y')],
  ['Concat', [{ shape: [2, 3] }, { shape: [2, 5] }], (g, [a, b]) => g.node('Concat', [a, b], 'y', { axis: 1 })],
  ['Gemm', [{ shape: [3, 5] }, { shape: [5, 4] }, { shape: [4] }], (g, [a, b, c]) => g.node('Gemm', [a, b, c], 'y')],
  ['Gemm transA', [{ shape: [5, 3] }, { shape: [5, 4] }, { shape: [4] }], (g, [a, b, c]) => g.node('Gemm', [a, b, c], 'y', { transA: 1 })],
  ['Gemm transB', [{ shape: [3, 5] }, { shape: [4, 5] }, { shape: [3, 4] }], (g, [a, b, c]) => g.node('Gemm', [a, b, c], 'y', { transB: 1 })],
  ['Gemm transA transB', [{ shape: [5, 3] }, { shape: [4, 5] }], (g, [a, b]) => g.node('Gemm', [a, b], 'y', { transA: 1, transB: 1 })],
  ['MatMul', [{ shape: [3, 5] }, { shape: [5, 4] }], (g, [a, b]) => g.node('MatMul', [a, b], 'y')],
  ['MatMul (batched, broadcast)', [{ shape: [2, 3, 5] }, { shape: [5, 4] }], (g, [a, b]) => g.node('MatMul', [a, b], 'y')],
  ['Conv k3 s1 same', [{ shape: [2, 3, 5, 5] }, { shape: [4, 3, 3, 3] }, { shape: [4] }], (g, [x, w, b]) =>
    g.node('Conv', [x, w, b], 'y', { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] })],
  ['Conv k4 s2 (the zoo conv stack)', [{ shape: [2, 2, 8, 8] }, { shape: [3, 2, 4, 4] }, { shape: [3] }], (g, [x, w, b]) =>
    g.node('Conv', [x, w, b], 'y', { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] })],
  ['Conv k3 s2 odd input, asymmetric pads', [{ shape: [1, 2, 7, 6] }, { shape: [2, 2, 3, 3] }], (g, [x, w]) =>
    g.node('Conv', [x, w], 'y', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1] })],
  ['Conv dilation 2', [{ shape: [1, 2, 7, 7] }, { shape: [2, 2, 3, 3] }], (g, [x, w]) =>
    g.node('Conv', [x, w], 'y', { kernel_shape: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2] })],
  ['ConvTranspose k4 s2 (the zoo deconv stack)', [{ shape: [2, 3, 4, 4] }, { shape: [3, 2, 4, 4] }, { shape: [2] }], (g, [x, w, b]) =>
    g.node('ConvTranspose', [x, w, b], 'y', { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] })],
  ['ConvTranspose k3 s2 output_padding', [{ shape: [1, 2, 3, 3] }, { shape: [2, 3, 3, 3] }], (g, [x, w]) =>
    g.node('ConvTranspose', [x, w], 'y', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] })],
];

describe('train/engines/ort gradients (finite differences)', function () {
  this.timeout(120_000);
  const precisions = new Map<string, 'float64' | 'float32'>();
  for (const [label, spec, build] of unaryCases) {
    it(label, async () => {
      precisions.set(label, await check(label, [spec], (g, [x]) => build(g, x)));
    });
  }
  for (const [label, specs, build] of multiCases) {
    it(label, async () => {
      precisions.set(label, await check(label, specs, build));
    });
  }

  it('checks in float64 wherever onnxruntime has double kernels (elementwise ops, Gemm, MatMul)', () => {
    for (const label of ['Exp', 'Log', 'Sigmoid', 'Add (broadcast)', 'Mul (broadcast)', 'Gemm', 'MatMul', 'ReduceSum']) {
      assert.equal(precisions.get(label), 'float64', label);
    }
  });

  it('chains through shared values (a value used twice gets both contributions)', async () => {
    await check('chain', [{ shape: [3, 4] }, { shape: [4, 4] }], (g, [x, w]) => {
      const h = g.node('Tanh', [g.node('MatMul', [x, w], 'h0')], 'h');
      return g.node('Mul', [h, g.node('Sigmoid', [g.node('MatMul', [h, w], 'h2')], 's')], 'y');
    });
  });

  it('gives zeros for a value the loss does not depend on', async () => {
    const g = new TrainingGraph();
    const x = g.input('x', 'float32', [2, 3]);
    const unused = g.input('u', 'float32', [4]);
    const loss = g.node('ReduceSum', [g.node('Mul', [x, x], 'sq')], 'loss', { keepdims: 0 });
    const [, du] = gradients(g, loss, [x, unused]);
    const s = await session(modelBytes(g.toModel([loss, du])));
    const out = await s.run({ x: new ort.Tensor('float32', new Float32Array(6).fill(1), [2, 3]), u: new ort.Tensor('float32', new Float32Array(4).fill(5), [4]) });
    assert.deepEqual(Array.from(out[du].data as Float32Array), [0, 0, 0, 0]);
    await s.release();
  });
});
