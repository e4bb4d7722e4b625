/** Element types: ONNX type numbers by name, tensors of each type, and outputs read back as numbers. */
import { strict as assert } from 'node:assert';
import { onnx } from 'onnx-proto';
import { dtypeOfOnnx, numericOutput, typedTensor } from '../../src/bench/dtypes';
import { float16Bits } from '../../src/export/onnx-graph';

const T = onnx.TensorProto.DataType;

describe('bench: element types', () => {
  it('maps ONNX types to onnxruntime names, and names the type it cannot handle', () => {
    assert.deepEqual([T.FLOAT, T.FLOAT16, T.DOUBLE, T.INT32, T.INT64, T.INT8, T.UINT8, T.BOOL].map((t) => dtypeOfOnnx(t, 'x', 'm.onnx')), [
      'float32', 'float16', 'float64', 'int32', 'int64', 'int8', 'uint8', 'bool',
    ]);
    // The issue: int64 was refused as "element type 7". Types still refused are named, not numbered.
    assert.throws(() => dtypeOfOnnx(T.STRING, 'text', 'm.onnx'), /graph tensor 'text' has element type string \(ONNX type 8\); the benchmark handles float32, float16/);
    assert.throws(() => dtypeOfOnnx(T.BFLOAT16, 'h', 'm.onnx'), /element type bfloat16/);
  });

  it('holds each type in its typed array and reads it back as numbers', () => {
    const values = Float64Array.from([0, 1, 2, 3]);
    const int64 = typedTensor('int64', values, [2, 2]);
    assert.ok(int64.data instanceof BigInt64Array);
    assert.deepEqual(Array.from(int64.data), [0n, 1n, 2n, 3n]);
    assert.deepEqual(Array.from(numericOutput(int64).data), [0, 1, 2, 3]);
    const bool = typedTensor('bool', Float64Array.from([0, 1, 1, 0]), [4]);
    assert.ok(bool.data instanceof Uint8Array);
    assert.deepEqual(Array.from(numericOutput(bool).data), [0, 1, 1, 0]);
    for (const dtype of ['int32', 'int8', 'uint8', 'float64'] as const) assert.deepEqual(Array.from(numericOutput(typedTensor(dtype, values, [4])).data), [0, 1, 2, 3], dtype);
  });

  it('rounds float16 to the nearest half and decodes its bits', () => {
    const half = typedTensor('float16', Float64Array.from([1, -2.5, 0.1, 70000]), [4]);
    assert.ok(half.data instanceof Uint16Array);
    assert.equal(half.data[0], float16Bits(1));
    const back = Array.from(numericOutput(half).data);
    assert.deepEqual(back.slice(0, 2), [1, -2.5]);
    assert.ok(Math.abs(back[2] - 0.1) < 1e-4 && back[2] !== 0.1, `0.1 in half precision: ${back[2]}`);
    assert.equal(back[3], Infinity, 'beyond the half range');
    // float32 outputs are passed on as they are, not copied.
    const f32 = typedTensor('float32', Float64Array.from([0.5]), [1]);
    assert.equal(numericOutput(f32).data, f32.data);
  });
});
