/**
 * Sessions on models of other tools (fixtures/onnx/foreign): int64, bool, int32 and float16 feeds,
 * and every output in its own element type from `runTyped`, on onnxruntime-node and
 * onnxruntime-web, checked against what the graphs compute; `run` still refuses non-float32 outputs.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { decodeModel } from '../../src/artifact/onnx-io';
import { openOrtSession } from '../../src/artifact/runtime';
import type { NamedHostTensor, OrtSessionRuntime } from '../../src/artifact/runtime';
import { PACKAGE_ROOT } from '../../src/core/paths';
import { float16Bits, float16Value, float32Data } from '../../src/export/onnx-graph';

const FOREIGN = path.join(PACKAGE_ROOT, 'fixtures', 'onnx', 'foreign');
const RUNTIMES: OrtSessionRuntime[] = ['ort-node-cpu', 'ort-web-wasm'];

function output(results: NamedHostTensor[], name: string): NamedHostTensor {
  const found = results.find((r) => r.name === name);
  assert.ok(found, `no output '${name}'`);
  return found;
}

describe('artifact: typed sessions on models of other tools', function () {
  this.timeout(60_000);

  for (const runtime of RUNTIMES) {
    it(`${runtime}: int64 ids and a bool mask in, float32 logits and int64 argmax out (PyTorch)`, async () => {
      const session = await openOrtSession(runtime, readFileSync(path.join(FOREIGN, 'torch-tokens-int64.onnx')));
      try {
        const ids = BigInt64Array.from({ length: 16 }, (_, i) => BigInt((i * 7) % 100));
        const mask = Uint8Array.from({ length: 16 }, (_, i) => (i % 3 === 0 ? 0 : 1));
        const results = await session.runTyped({ ids: { dtype: 'int64', data: ids, dims: [2, 8] }, mask: { dtype: 'bool', data: mask, dims: [2, 8] } });
        const logits = output(results, 'logits');
        const pred = output(results, 'pred');
        assert.deepEqual([logits.dtype, logits.dims, pred.dtype, pred.dims], ['float32', [2, 8, 4], 'int64', [2, 8]]);
        assert.ok(pred.data instanceof BigInt64Array);
        const l = logits.data as Float32Array;
        for (let t = 0; t < 16; t++) {
          const row = Array.from(l.subarray(t * 4, t * 4 + 4));
          assert.equal(Number(pred.data[t]), row.indexOf(Math.max(...row)), `token ${t}: argmax`);
        }
        // A masked token's embedding is zeroed: its logits are the head's bias, the same for every masked token.
        assert.deepEqual(Array.from(l.subarray(0, 4)), Array.from(l.subarray(3 * 4, 3 * 4 + 4)));
        // run() keeps its float32-only contract, naming the output.
        await assert.rejects(session.run({ ids: { dtype: 'int64', data: ids, dims: [2, 8] }, mask: { dtype: 'bool', data: mask, dims: [2, 8] } }), /output 'pred' has type int64 \(expected float32\)/);
      } finally {
        await session.release();
      }
    });

    it(`${runtime}: float16 and int32 in, float16 out, as the graph computes (onnx.helper)`, async () => {
      const bytes = readFileSync(path.join(FOREIGN, 'onnx-fp16-seq.onnx'));
      const graph = decodeModel(bytes, 'fp16').graph as onnx.GraphProto;
      const w = float32Data(graph.initializer.find((t) => t.name === 'w')!);
      const tableRaw = graph.initializer.find((t) => t.name === 'pos_table')!.rawData!;
      const table = new Uint16Array(tableRaw.buffer.slice(tableRaw.byteOffset, tableRaw.byteOffset + tableRaw.byteLength));
      const [batch, seq] = [2, 3];
      const x = Uint16Array.from({ length: batch * seq * 4 }, (_, i) => float16Bits((i % 7) / 4 - 0.75));
      const pos = Int32Array.from({ length: batch * seq }, (_, i) => (i * 5) % 16);
      const session = await openOrtSession(runtime, bytes);
      try {
        const [y] = await session.runTyped({ x: { dtype: 'float16', data: x, dims: [batch, seq, 4] }, pos: { dtype: 'int32', data: pos, dims: [batch, seq] } });
        assert.deepEqual([y.name, y.dtype, y.dims], ['y', 'float16', [batch, seq, 3]]);
        assert.ok(y.data instanceof Uint16Array);
        for (let t = 0; t < batch * seq; t++) {
          for (let j = 0; j < 3; j++) {
            let want = float16Value(table[pos[t] * 3 + j]);
            for (let i = 0; i < 4; i++) want += float16Value(x[t * 4 + i]) * w[i * 3 + j];
            const got = float16Value(y.data[t * 3 + j]);
            // One half-precision rounding of the float32 result: relative 2^-11.
            assert.ok(Math.abs(got - want) <= 1e-3 * Math.max(1, Math.abs(want)), `y[${t}, ${j}] = ${got}, expected ${want}`);
          }
        }
      } finally {
        await session.release();
      }
    });
  }
});
