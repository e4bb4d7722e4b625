import { strict as assert } from 'node:assert';
import { AekitError } from '../../src/core/errors';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { exportLayersModel } from '../../src/export/export';
import { float16Bits, float16Value } from '../../src/export/onnx-graph';

describe('export: float16 encoding', () => {
  it('rounds float32 to the nearest float16, ties to even', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff], // largest finite half
      [65520, 0x7c00], // halfway to the next binade rounds up to infinity
      [Infinity, 0x7c00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie between 0 and 2^-24 goes to even (0)
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal steps goes to even (2)
      [1 + 2 ** -11, 0x3c00], // tie between 1 and 1 + 2^-10 goes to even (1)
      [1 + 3 * 2 ** -11, 0x3c02],
    ];
    for (const [value, bits] of cases) assert.equal(float16Bits(value), bits, `${value}`);
    assert.equal(float16Bits(NaN) & 0x7c00, 0x7c00);
    assert.ok(Number.isNaN(float16Value(float16Bits(NaN))));
  });

  it('decodes every finite half back to a value that re-encodes to the same bits', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      assert.equal(float16Bits(float16Value(bits)), bits);
    }
  });

  it('refuses weights that overflow float16, naming the weight', async () => {
    await useBackend('wasm');
    const x = tf.input({ shape: [16] });
    const dense = tf.layers.dense({ units: 16, name: 'huge' });
    const model = tf.model({ inputs: x, outputs: dense.apply(x) as tf.SymbolicTensor });
    const [kernel, bias] = dense.getWeights();
    const big = tf.fill(kernel.shape, 1e6);
    dense.setWeights([big, bias]);
    big.dispose();
    await assert.rejects(
      exportLayersModel(model, { part: 'test', fp16: true, metadata: { family: 't', valueRange: 'unit', dataset: 'x', runId: 'r' } }),
      (error: unknown) => error instanceof AekitError && error.code === 'EXPORT_FAILED' && /huge\.kernel/.test(error.message),
    );
    model.dispose();
  });
});
