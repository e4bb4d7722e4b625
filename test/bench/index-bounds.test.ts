/**
 * Integer inputs that index something: the bound comes from the graph (Gather over a constant, through
 * Cast and Unsqueeze; OneHot's depth), checked with onnxruntime, which refuses an index out of range.
 */
import { strict as assert } from 'node:assert';
import { onnx } from 'onnx-proto';
import { encodeModel } from '../../src/artifact/onnx-io';
import { runOnnx } from '../../src/artifact/runtime';
import { indexBounds } from '../../src/bench/index-bounds';
import { OnnxGraphBuilder, valueInfo } from '../../src/export/onnx-graph';

/** ids (int32) -> Cast(int64) -> Unsqueeze -> Gather(axis 1) over a [3, 7] table; cls (int32) -> Cast -> OneHot(depth 5); free (int32) -> Cast. */
function graph(): onnx.ModelProto {
  const g = new OnnxGraphBuilder();
  for (const name of ['ids', 'cls', 'free']) g.reserve(name);
  const table = g.weight('table', 'table', [3, 7], new Float32Array(21).fill(1));
  const ids64 = g.node('Cast', ['ids'], 'ids64', { to: onnx.TensorProto.DataType.INT64 });
  const idsU = g.node('Unsqueeze', [ids64, g.constant('axes', 'int64', [1], [1])], 'idsU');
  g.identity(g.node('Gather', [table, idsU], 'gathered', { axis: 1 }), 'picked');
  const depth = g.constant('depth', 'int64', [], [5]);
  const cls64 = g.node('Cast', ['cls'], 'cls64', { to: onnx.TensorProto.DataType.INT64 });
  g.identity(g.node('OneHot', [cls64, depth, g.constant('onoff', 'float32', [2], [0, 1])], 'onehot'), 'classes');
  g.identity(g.node('Cast', ['free'], 'freeF', { to: onnx.TensorProto.DataType.FLOAT }), 'counts');
  return onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'bounds',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('ids', 'int32', [4]), valueInfo('cls', 'int32', [4]), valueInfo('free', 'int32', [4])],
      output: [valueInfo('picked', 'float32', [3, 4, 1]), valueInfo('classes', 'float32', [4, 5]), valueInfo('counts', 'float32', [4])],
    },
  });
}

describe('bench: index bounds of integer inputs', () => {
  it('finds the size an input indexes through Cast and Unsqueeze, and OneHot depths; others have none', async () => {
    const model = graph();
    assert.deepEqual([...indexBounds(model.graph as onnx.IGraphProto)].sort(), [['cls', 5], ['ids', 7]]);
    // The bounds are the real ones: onnxruntime runs the largest index below each and refuses the bound itself.
    const bytes = encodeModel(model);
    const feeds = (id: number) => ({
      ids: { dtype: 'int32' as const, data: Int32Array.from([0, 1, 2, id]), dims: [4] },
      cls: { dtype: 'int32' as const, data: Int32Array.from([0, 1, 2, 4]), dims: [4] },
      free: { dtype: 'int32' as const, data: Int32Array.from([9, 9, 9, 9]), dims: [4] },
    });
    const out = await runOnnx('ort-node-cpu', bytes, feeds(6));
    assert.deepEqual(out.find((o) => o.name === 'classes')!.dims, [4, 5]);
    await assert.rejects(runOnnx('ort-node-cpu', bytes, feeds(7)), /out of (data )?bounds|indices/i);
  });
});
