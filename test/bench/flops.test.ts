/**
 * FLOP counting from the ONNX graph: the per-op rules are checked against shapes that onnxruntime
 * itself produces for a hand-built graph (Conv, Relu, MaxPool, ConvTranspose, Flatten, Gemm), and
 * the trained fixture decoder's count against its layer sizes.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import { countFlops, knownFlops } from '../../src/bench/flops';
import { Rng } from '../../src/core/rng';
import { OnnxGraphBuilder, valueInfo } from '../../src/export/onnx-graph';
import { encodeModel } from '../../src/artifact/onnx-io';
import { runOnnx } from '../../src/artifact/runtime';
import { FIXTURE_DECODER, benchFixture } from './helpers';

const OPSET = 17;
const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** x[batch,3,9,7] -> Conv -> Relu -> MaxPool -> ConvTranspose -> Flatten -> Gemm; every stage is a graph output. */
function convModel(): Uint8Array {
  const rng = new Rng(7);
  const g = new OnnxGraphBuilder();
  g.reserve('x');
  const w = (name: string, dims: number[]) => g.weight(name, name, dims, Float32Array.from(rng.normalArray(product(dims))));
  const conv = g.node('Conv', ['x', w('conv.w', [5, 3, 3, 3]), w('conv.b', [5])], 'conv', { strides: [2, 2], pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
  const relu = g.node('Relu', [conv], 'relu');
  const pool = g.node('MaxPool', [relu], 'pool', { kernel_shape: [2, 2], strides: [2, 2] });
  const deconv = g.node('ConvTranspose', [pool, w('deconv.w', [5, 2, 3, 3]), w('deconv.b', [2])], 'deconv', { strides: [2, 2], kernel_shape: [3, 3] });
  const flat = g.node('Flatten', [deconv], 'flat', { axis: 1 });
  const gemm = g.node('Gemm', [flat, w('gemm.w', [50, 6]), w('gemm.b', [6])], 'gemm');
  const outputs = [conv, relu, pool, deconv, flat, gemm].map((name) => valueInfo(name, 'float32', []));
  // Output shapes left empty: onnxruntime reports the real ones, which the expectations use.
  for (const o of outputs) o.type!.tensorType!.shape = undefined;
  return encodeModel(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: { name: 'flops', node: g.nodes, initializer: g.initializers, input: [valueInfo('x', 'float32', ['batch', 3, 9, 7])], output: outputs },
    }),
  );
}

describe('bench: countFlops', () => {
  it('counts Conv, Relu, MaxPool, ConvTranspose, Flatten and Gemm on the shapes onnxruntime produces', async () => {
    const bytes = convModel();
    for (const batch of [1, 3]) {
      const x = { dtype: 'float32' as const, data: new Float32Array(batch * 3 * 9 * 7).fill(0.5), dims: [batch, 3, 9, 7] };
      const dims = Object.fromEntries((await runOnnx('ort-node-cpu', bytes, { x })).map((o) => [o.name, o.dims]));
      const expected = {
        Conv: 2 * product(dims.conv) * (3 * 3 * 3) + product(dims.conv),
        Relu: product(dims.relu),
        MaxPool: product(dims.pool) * 2 * 2,
        ConvTranspose: 2 * product(dims.pool) * (2 * 3 * 3) + product(dims.deconv),
        Gemm: 2 * batch * 50 * 6 + batch * 6,
      };
      const count = countFlops(bytes, { batch });
      assert.deepEqual(count.uncounted, []);
      assert.deepEqual(count.byOp, expected, `batch ${batch}; onnxruntime shapes ${JSON.stringify(dims)}`);
      assert.equal(count.total, Object.values(expected).reduce((a, b) => a + b, 0));
    }
  });

  it('lists ops it cannot count, and what depends on their shape, instead of guessing', () => {
    const g = new OnnxGraphBuilder();
    g.reserve('x');
    const mystery = g.node('NonMaxSuppression', ['x'], 'mystery');
    g.node('Relu', [mystery], 'y');
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: { name: 'u', node: g.nodes, input: [valueInfo('x', 'float32', ['batch', 4])], output: [valueInfo('y', 'float32', ['batch', 4])] },
    });
    const count = countFlops(model, { batch: 2 });
    assert.equal(count.total, 0);
    assert.deepEqual(count.uncounted, ['NonMaxSuppression (mystery)', 'Relu (y)']);
  });

  it('reports a count with nothing sized as unknown, a partial one as a lower bound, and a complete 0 as 0', () => {
    assert.deepEqual(knownFlops({ total: 0, byOp: {}, uncounted: ['Einsum (e)'] }), { flops: null, lowerBound: false, uncounted: ['Einsum (e)'] });
    assert.deepEqual(knownFlops({ total: 40, byOp: { Add: 40 }, uncounted: ['ArgMax (a)'] }), { flops: 40, lowerBound: true, uncounted: ['ArgMax (a)'] });
    assert.deepEqual(knownFlops({ total: 0, byOp: {}, uncounted: [] }), { flops: 0, lowerBound: false, uncounted: [] });
  });

  it('binds batch dims named as other tools name them, and takes concrete input shapes', () => {
    const g = new OnnxGraphBuilder();
    g.reserve('x');
    g.identity(g.node('Relu', ['x'], 'r'), 'y');
    const withDims = (dims: (string | number)[]) =>
      onnx.ModelProto.create({
        irVersion: 8,
        opsetImport: [{ domain: '', version: OPSET }],
        graph: { name: 'n', node: g.nodes, input: [valueInfo('x', 'float32', dims)], output: [valueInfo('y', 'float32', dims)] },
      });
    assert.equal(countFlops(withDims(['N', 5]), { batch: 3 }).total, 15);
    assert.equal(countFlops(withDims([5, 'batch_size']), { batch: 3 }).total, 15);
    assert.equal(countFlops(withDims(['unk__7', 5]), { batch: 3 }).total, 15, 'the first axis, whatever its name');
    assert.deepEqual(countFlops(withDims(['N', 'seq']), { batch: 3 }).uncounted, ['Relu (r)', 'Identity (y)'], 'seq unsized: not guessed');
    assert.equal(countFlops(withDims(['N', 'seq']), { batch: 3, dims: { seq: 2 } }).total, 6);
    assert.equal(countFlops(withDims(['N', 'seq']), { inputShapes: { x: [4, 4] } }).total, 16);
  });

  it('counts the fixture decoder from its layer sizes (Gemm + bias, Relu, Gemm + bias, Sigmoid)', async () => {
    const { latent, hidden, pixels } = FIXTURE_DECODER;
    const fixture = await benchFixture();
    const perImage = 2 * latent * hidden + hidden + hidden + 2 * hidden * pixels + pixels + pixels;
    const bytes = readFileSync(fixture.decoder);
    assert.equal(countFlops(bytes, { batch: 1 }).total, perImage);
    assert.equal(countFlops(bytes, { batch: 16 }).total, 16 * perImage);
  });
});
