/**
 * `benchmark()` on ONNX models aekit did not write (fixtures/onnx/foreign, from
 * scripts/make-foreign-onnx.py: PyTorch exports, an onnx.helper graph, and two of the onnx
 * package's own example models), with real onnxruntime-node and onnxruntime-web in worker
 * processes: a fixed batch is the batch reported and other sizes are refused with the reason;
 * int64, bool, int32, uint8 and float16 inputs run with sensible values; `N` and `batch_size` take
 * the batch size and `--dim` sizes the rest; FLOPs the counter cannot size are unknown, never 0.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchmark } from '../../src/bench/bench';
import type { BenchReport } from '../../src/bench/bench';
import { numericOutput } from '../../src/bench/dtypes';
import { countFlops } from '../../src/bench/flops';
import { benchInputs, describeBenchArtifact } from '../../src/bench/inputs';
import { benchMarkdown, formatBenchTable, writeBenchReport } from '../../src/bench/report';
import type { BenchRow } from '../../src/bench/runtime-state';
import { PACKAGE_ROOT } from '../../src/core/paths';
import { encodeModel } from '../../src/artifact/onnx-io';
import { OnnxGraphBuilder, valueInfo } from '../../src/export/onnx-graph';
import { onnx } from 'onnx-proto';

const FOREIGN = path.join(PACKAGE_ROOT, 'fixtures', 'onnx', 'foreign');
const model = (name: string) => path.join(FOREIGN, name);

/** Two runtimes in worker processes, few runs: the rows' truth is the point, not the figures. */
const QUICK = Object.freeze({ runtimes: ['ort-node-cpu', 'ort-web-wasm'] as ('ort-node-cpu' | 'ort-web-wasm')[], warmup: 1, runs: 3, threads: 1 });

const rowOf = (report: BenchReport, runtime: string, batch: number): BenchRow => {
  const row = report.rows.find((r) => r.runtime === runtime && r.batch === batch);
  assert.ok(row, `no row for ${runtime} at batch ${batch}: ${report.rows.map((r) => `${r.runtime}/${r.batch}`).join(' ')}`);
  return row;
};

/** Every row ran, agrees with the reference, and derives images/s from its real batch. */
function assertRowsTrue(report: BenchReport, batches: number[]): void {
  assert.deepEqual(report.rows.map((r) => [r.runtime, r.batch]), QUICK.runtimes.flatMap((rt) => batches.map((b) => [rt, b])));
  for (const row of report.rows) {
    assert.equal(row.status, 'ok', `${row.runtime}/${row.batch}: ${row.reason}`);
    assert.ok(row.agreement!.ok, `${row.runtime}/${row.batch}: ${JSON.stringify(row.agreement)}`);
    assert.ok(Math.abs(row.imagesPerSecond! - row.batch! / (row.latencyMs!.p50 / 1000)) < 1e-6 * row.imagesPerSecond!);
  }
}

/** The table line of a runtime (or `(all)`) at a batch size, if there is one. */
/** A graph that declares a symbolic batch but reshapes to [1, 4] inside: it runs batch 1 only. */
function reshapesToOne(): Uint8Array {
  const g = new OnnxGraphBuilder();
  g.reserve('x');
  g.identity(g.node('Reshape', ['x', g.constant('shape', 'int64', [2], [1, 4])], 'r'), 'y');
  return encodeModel(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'fixed-inside', node: g.nodes, initializer: g.initializers, input: [valueInfo('x', 'float32', ['batch', 4])], output: [valueInfo('y', 'float32', [1, 4])] },
    }),
  );
}

const tableLine = (table: string, runtime: string, batch: number) => table.split('\n').find((l) => l.startsWith(`${runtime} `) && l.split(/\s+/)[1] === String(batch));

describe('bench: models from other tools', function () {
  this.timeout(120_000);

  it('reports a fixed batch as the real batch and refuses other sizes with the reason (PyTorch conv at [1, 3, 32, 32])', async () => {
    const report = await benchmark(model('torch-conv-fixed.onnx'), { ...QUICK, batches: [1, 16] });
    assertRowsTrue(report, [1]);
    assert.equal(report.model.fixedBatch, 1);
    assert.deepEqual(report.settings.batches, [1]);
    assert.equal(report.refusedBatches.length, 1);
    assert.equal(report.refusedBatches[0].batch, 16);
    assert.match(report.refusedBatches[0].reason, /runs 1 image at a time \(input 'x' has the fixed shape \[1, 3, 32, 32\].*not 16; bench it with --batch 1/);
    // Conv 3->8 (3x3, pad 1) at 32x32, Relu, Conv 8->4 (3x3, stride 2) to 16x16, biases included.
    const conv1 = 8 * 32 * 32;
    const conv2 = 4 * 16 * 16;
    const flops = 2 * conv1 * 27 + conv1 + conv1 + 2 * conv2 * 72 + conv2;
    assert.equal(report.model.flopsPerImage, flops);
    assert.equal(rowOf(report, 'ort-node-cpu', 1).flops, flops);
    const table = formatBenchTable(report);
    assert.ok(tableLine(table, 'ort-node-cpu', 1), 'the batch-1 row is found');
    assert.equal(tableLine(table, 'ort-node-cpu', 16), undefined, 'no row claims batch 16');
    assert.match(tableLine(table, '(all)', 16)!, /^\(all\) +16 +refused: the model runs 1 image at a time/);
    assert.match(table.split('\n')[0], /batch fixed at 1 by the model/);
    assert.ok(benchMarkdown(report).includes('| (all) | 16 | refused: the model runs 1 image'));

    // Without --batch the model's own batch is measured; asking only for sizes it cannot run is an error.
    const defaults = await benchmark(model('torch-conv-fixed.onnx'), { ...QUICK, runtimes: ['ort-node-cpu'] });
    assert.deepEqual([defaults.settings.batches, defaults.refusedBatches], [[1], []]);
    await assert.rejects(benchmark(model('torch-conv-fixed.onnx'), { ...QUICK, batches: [16, 256] }), /--batch.*no batch size asked for can run: .*bench it with --batch 1/);
  });

  it('feeds int64 token ids below the embedding size and a bool mask, binds N to the batch, and counts FLOPs per batch (PyTorch)', async () => {
    const file = model('torch-tokens-int64.onnx');
    const artifact = describeBenchArtifact(file, new Uint8Array(readFileSync(file)));
    assert.deepEqual(artifact.inputs, [
      { name: 'ids', dtype: 'int64', shape: ['N', 8] },
      { name: 'mask', dtype: 'bool', shape: ['N', 8] },
    ]);
    const feeds = benchInputs(artifact, 16, 0);
    assert.equal(feeds.ids.dtype, 'int64');
    assert.ok(feeds.ids.data instanceof BigInt64Array);
    assert.deepEqual(feeds.ids.dims, [16, 8]);
    const ids = Array.from(numericOutput(feeds.ids).data);
    // The embedding table has 100 rows: onnxruntime refuses an id out of range.
    assert.ok(ids.every((v) => Number.isInteger(v) && v >= 0 && v < 100), `ids in [0, 100): ${ids.join(',')}`);
    assert.ok(new Set(ids).size > 20, 'ids vary');
    assert.ok(feeds.mask.data instanceof Uint8Array && feeds.mask.dtype === 'bool');
    assert.deepEqual(new Set(numericOutput(feeds.mask).data), new Set([0, 1]), 'the mask has both values');

    const report = await benchmark(file, { ...QUICK, batches: [1, 16] });
    assertRowsTrue(report, [1, 16]);
    // N is the batch: FLOPs grow with it (the issue: an `N` batch gave 0 FLOPs). ArgMax is not sized: a lower bound.
    const [one, sixteen] = [rowOf(report, 'ort-node-cpu', 1), rowOf(report, 'ort-node-cpu', 16)];
    // Per token: Gather 0, mask Mul 16, MatMul 2x16x4, bias Add 4; 8 tokens per sequence.
    const perToken = 16 + 2 * 16 * 4 + 4;
    assert.equal(one.flops, 8 * perToken);
    assert.equal(sixteen.flops, 16 * one.flops!);
    assert.equal(countFlops(readFileSync(file), { batch: 16 }).total, sixteen.flops, 'countFlops binds N by itself too');
    assert.ok(one.flopsLowerBound && report.model.flopsLowerBound);
    assert.deepEqual(report.model.flopsUncounted.map((u) => u.split(' ')[0]), ['ArgMax']);
    assert.match(tableLine(formatBenchTable(report), 'ort-node-cpu', 16)!, / >=\d/);
    assert.deepEqual(report.model.outputs.map((o) => o.dtype), ['float32', 'int64']);
  });

  it('feeds float16 and int32 inputs, sizes `seq` from --dim, and prints unknown FLOPs as unknown (onnx.helper graph)', async () => {
    const file = model('onnx-fp16-seq.onnx');
    await assert.rejects(
      benchmark(file, { ...QUICK, batches: [2] }),
      /input 'x' \[batch_size, seq, 4\] has symbolic dimension 'seq' at axis 1, which is not the batch; give its size with --dim seq=<size>/,
    );
    await assert.rejects(benchmark(file, { ...QUICK, batches: [2], dims: { seq: 5, sequence: 3 } }), /no input of the model has a symbolic dimension 'sequence'; its symbolic dimensions are: batch_size \(input 'x' axis 0\), seq \(input 'x' axis 1\)/);

    const artifact = describeBenchArtifact(file, new Uint8Array(readFileSync(file)));
    const feeds = benchInputs(artifact, 3, 0, { seq: 5 });
    assert.deepEqual([feeds.x.dtype, feeds.x.dims, feeds.pos.dtype, feeds.pos.dims], ['float16', [3, 5, 4], 'int32', [3, 5]]);
    assert.ok(feeds.x.data instanceof Uint16Array);
    const x = Array.from(numericOutput(feeds.x).data);
    assert.ok(x.some((v) => v < 0) && x.every((v) => Number.isFinite(v) && Math.abs(v) < 8), 'N(0, 1) values, in half precision');
    // pos indexes a 16-row table.
    assert.ok(Array.from(numericOutput(feeds.pos).data).every((v) => v >= 0 && v < 16));

    const report = await benchmark(file, { ...QUICK, batches: [1, 8], dims: { seq: 5 } });
    assertRowsTrue(report, [1, 8]);
    assert.deepEqual(report.settings.dims, { seq: 5 });
    assert.equal(report.model.flopsPerImage, null);
    for (const row of report.rows) assert.deepEqual([row.flops, row.gflopsPerSecond], [null, null], 'unknown, not 0');
    const table = formatBenchTable(report);
    assert.match(table.split('\n')[0], /unknown FLOPs per image \(3 node\(s\) not counted: Einsum, Add, Cast\); seq=5/);
    assert.match(tableLine(table, 'ort-web-wasm', 8)!, / unknown /);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'aekit-bench-foreign-'));
    try {
      await writeBenchReport(report, { json: path.join(dir, 'r.json') });
      const json = JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')) as BenchReport;
      assert.deepEqual([json.model.flopsPerImage, json.rows[0].flops, json.rows[0].gflopsPerSecond], [null, null, null]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('feeds uint8 pixels as bytes and binds batch_size (PyTorch)', async () => {
    const file = model('torch-uint8-image.onnx');
    const feeds = benchInputs(describeBenchArtifact(file, new Uint8Array(readFileSync(file))), 2, 0);
    assert.deepEqual([feeds.pixels.dtype, feeds.pixels.dims], ['uint8', [2, 3, 16, 16]]);
    assert.ok(new Set(numericOutput(feeds.pixels).data).size > 200, 'pixel bytes span [0, 255]');
    const report = await benchmark(file, { ...QUICK, batches: [1, 4] });
    assertRowsTrue(report, [1, 4]);
    assert.equal(rowOf(report, 'ort-node-cpu', 4).flops, 4 * report.model.flopsPerImage!);
    assert.equal(report.model.flopsLowerBound, false);
  });

  it('refuses a batch size the reference runtime cannot run (a batch fixed inside the graph), with its error', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'aekit-bench-foreign-'));
    try {
      const file = path.join(dir, 'fixed-inside.onnx');
      writeFileSync(file, reshapesToOne());
      const report = await benchmark(file, { ...QUICK, batches: [1, 3] });
      assertRowsTrue(report, [1]);
      assert.equal(report.model.fixedBatch, null, 'the inputs say any batch');
      assert.deepEqual(report.refusedBatches.map((r) => r.batch), [3]);
      assert.match(report.refusedBatches[0].reason, /^the reference runtime ort-node-cpu cannot run batch 3: .*(reshape|Reshape)/);
      await assert.rejects(benchmark(file, { ...QUICK, batches: [3] }), /the reference runtime ort-node-cpu cannot run the model/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs the onnx package's example models: fixed batches 1 and 2, and 0 FLOPs that are really 0", async () => {
    const relu = await benchmark(model('single_relu.onnx'), QUICK);
    assertRowsTrue(relu, [1]);
    assert.deepEqual([relu.model.fixedBatch, relu.model.flopsPerImage], [1, 2]);

    // Two Transposes compute nothing: the count is complete and 0, not unknown. The file declares its
    // output as [3, 2, 4] where the graph makes [2, 3, 4]: onnxruntime-node lets that pass, onnxruntime-web
    // refuses to load it, and its row says so.
    const transposes = await benchmark(model('two_transposes.onnx'), QUICK);
    assert.deepEqual([transposes.model.fixedBatch, transposes.model.flopsPerImage, transposes.model.flopsUncounted], [2, 0, []]);
    const cpu = rowOf(transposes, 'ort-node-cpu', 2);
    assert.equal(cpu.status, 'ok');
    assert.equal(cpu.flops, 0);
    assert.match(tableLine(formatBenchTable(transposes), 'ort-node-cpu', 2)!, /\s0\s/);
    const web = transposes.rows.find((r) => r.runtime === 'ort-web-wasm')!;
    assert.equal(web.status, 'failed');
    assert.match(web.reason!, /does not load: .*ShapeInferenceError/);
  });
});

describe('bench: models from other tools in headless Chromium @slow', function () {
  this.timeout(180_000);

  it('feeds int64, bool, float16 and int32 inputs to onnxruntime-web in the page, in agreement with onnxruntime-node', async () => {
    // The bench's browser rows launch Chromium through src/core/browser.ts (AEKIT_CHROMIUM, a system
    // Chromium, else the one @sparticuz/chromium bundles), so this runs on every machine.
    const tokens = await benchmark(model('torch-tokens-int64.onnx'), { batches: [1, 4], warmup: 1, runs: 3, threads: 1, runtimes: ['ort-node-cpu', 'chromium-wasm', 'chromium-webgpu'] });
    for (const runtime of ['chromium-wasm', 'chromium-webgpu']) {
      for (const batch of [1, 4]) {
        const row = rowOf(tokens, runtime, batch);
        assert.equal(row.status, 'ok', `${runtime}/${batch}: ${row.reason}`);
        assert.match(row.detail!, /onnxruntime-web session/);
        // The int64 argmax output is compared too: the same classes as onnxruntime-node.
        assert.ok(row.agreement!.ok, `${runtime}/${batch}: ${JSON.stringify(row.agreement)}`);
      }
    }
    assert.match(rowOf(tokens, 'chromium-webgpu', 1).detail!, /WebGPU adapter: .*shader-f16\)/);

    const half = await benchmark(model('onnx-fp16-seq.onnx'), { batches: [3], dims: { seq: 5 }, warmup: 1, runs: 3, threads: 1, runtimes: ['ort-node-cpu', 'chromium-wasm'] });
    const row = rowOf(half, 'chromium-wasm', 3);
    assert.equal(row.status, 'ok', row.reason);
    assert.ok(row.agreement!.ok, JSON.stringify(row.agreement));
    assert.equal(row.flops, null);
  });
});
