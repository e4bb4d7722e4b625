/**
 * `benchmark()` on a tiny trained VAE decoder with real runtimes (onnxruntime-node, onnxruntime-web
 * in Node, TensorFlow.js wasm on the run's checkpoint), each in its own worker process: rows,
 * derived figures, agreement with onnxruntime-node CPU, a deliberately altered artifact flagged,
 * unavailable runtimes reported as skipped, and the report's text, Markdown and chart forms.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AGREEMENT_TOLERANCE } from '../../src/bench/agreement';
import { benchmark, BENCH_REPORT_SCHEMA } from '../../src/bench/bench';
import type { BenchReport } from '../../src/bench/bench';
import type { BenchRow } from '../../src/bench/runtime-state';
import { countFlops } from '../../src/bench/flops';
import { benchChartPng, benchMarkdown, formatBenchTable, writeBenchReport } from '../../src/bench/report';
import { decodePng } from '../../src/core/image-io';
import { ALTERATION, benchFixture } from './helpers';
import type { BenchFixture } from './helpers';

/** Small settings: the figures are not the point here, the plumbing is. */
const QUICK = Object.freeze({ batches: [1, 8], warmup: 1, runs: 3, threads: 1 });

const rowOf = (report: BenchReport, runtime: string, batch: number | null): BenchRow => {
  const row = report.rows.find((r) => r.runtime === runtime && r.batch === batch);
  assert.ok(row, `no row for ${runtime} at batch ${batch}: ${report.rows.map((r) => `${r.runtime}/${r.batch}`).join(' ')}`);
  return row;
};

function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

describe('bench: benchmark() on a trained decoder', function () {
  this.timeout(120_000);
  let fixture: BenchFixture;
  let report: BenchReport;

  before(async () => {
    fixture = await benchFixture();
    report = await benchmark(fixture.decoder, { ...QUICK, runtimes: ['ort-node-cpu', 'ort-web-wasm', 'tfjs-wasm', 'tfjs-node'] });
  });

  it('has one row per runtime and batch size, with every figure measured', () => {
    assert.equal(report.schema, BENCH_REPORT_SCHEMA);
    assert.deepEqual(report.settings.batches, [1, 8]);
    assert.equal(report.runDir, path.resolve(fixture.runDir), 'the tfjs model is found from the artifact runId');
    for (const runtime of ['ort-node-cpu', 'ort-web-wasm', 'tfjs-wasm']) {
      for (const batch of QUICK.batches) {
        const row = rowOf(report, runtime, batch);
        assert.equal(row.status, 'ok', `${runtime}/${batch}: ${row.reason}`);
        assert.ok(row.creationMs! > 0 && row.firstInferenceMs! > 0, `${runtime}: creation and first inference timed`);
        const l = row.latencyMs!;
        assert.equal(l.count, QUICK.runs);
        assert.ok(l.min > 0 && l.min <= l.p50 && l.p50 <= l.p95 && l.p95 <= l.max, `${runtime}: ordered latency summary ${JSON.stringify(l)}`);
        assert.ok(Math.abs(row.imagesPerSecond! - batch / (l.p50 / 1000)) < 1e-6 * row.imagesPerSecond!);
        assert.equal(row.flops, countFlops(readFileSync(fixture.decoder), { batch }).total);
        assert.ok(Math.abs(row.gflopsPerSecond! - row.flops! / (l.p50 / 1000) / 1e9) < 1e-9 + 1e-6 * row.gflopsPerSecond!);
        assert.equal(row.memory!.kind, 'process-rss');
        assert.ok(row.memory!.peakBytes >= row.memory!.baselineBytes! && row.memory!.baselineBytes! > 0);
      }
    }
    // Each runtime lives in its own process: its peak is its own, not the driver's (which trained the model).
    const peaks = new Set(['ort-node-cpu', 'ort-web-wasm', 'tfjs-wasm'].map((rt) => rowOf(report, rt, 1).memory!.peakBytes));
    assert.equal(peaks.size, 3, 'three different processes, three different peaks');
  });

  it('computes agreement with onnxruntime-node CPU for every runtime', () => {
    assert.equal(rowOf(report, 'ort-node-cpu', 1).agreement!.maxAbsDiff, 0, 'the reference agrees with itself exactly');
    for (const runtime of ['ort-web-wasm', 'tfjs-wasm']) {
      for (const batch of QUICK.batches) {
        const a = rowOf(report, runtime, batch).agreement!;
        assert.deepEqual(a.tolerance, AGREEMENT_TOLERANCE);
        assert.ok(a.ok && a.maxAbsDiff < AGREEMENT_TOLERANCE.atol, `${runtime}/${batch}: ${JSON.stringify(a)}`);
      }
    }
  });

  it('reports tfjs-node as skipped with its reason when the package is absent', function () {
    if (tfjsNodeInstalled()) this.skip();
    const row = rowOf(report, 'tfjs-node', null);
    assert.equal(row.status, 'skipped');
    assert.match(row.reason!, /@tensorflow\/tfjs-node is not installed/);
    assert.equal(row.latencyMs, null);
  });

  it('flags a runtime whose output differs beyond the tolerance (altered artifact)', async () => {
    // The artifact's output biases are shifted; the tfjs model (the run's checkpoint) is not, so
    // tfjs-wasm must disagree with onnxruntime-node on the altered file while onnxruntime-web agrees.
    const altered = await benchmark(fixture.altered, { batches: [4], warmup: 0, runs: 1, threads: 1, runtimes: ['ort-node-cpu', 'ort-web-wasm', 'tfjs-wasm'] });
    const tfjs = rowOf(altered, 'tfjs-wasm', 4).agreement!;
    assert.equal(tfjs.ok, false);
    assert.ok(tfjs.maxAbsDiff > AGREEMENT_TOLERANCE.atol + AGREEMENT_TOLERANCE.rtol && tfjs.maxAbsDiff < ALTERATION, `sigmoid damps the shift, never amplifies it: ${tfjs.maxAbsDiff}`);
    assert.ok(rowOf(altered, 'ort-web-wasm', 4).agreement!.ok);
    const table = formatBenchTable(altered);
    const line = table.split('\n').find((l) => l.startsWith('tfjs-wasm'))!;
    assert.match(line, /NO \(> 0\.001 \+ 0\.001·\|ref\|\)/);
    assert.doesNotMatch(table.split('\n').find((l) => l.startsWith('ort-web-wasm'))!, /NO/);
  });

  it('renders the report as a table, Markdown and a PNG chart, and writes them', async () => {
    const table = formatBenchTable(report);
    for (const runtime of ['ort-node-cpu', 'ort-web-wasm', 'tfjs-wasm', 'tfjs-node']) assert.match(table, new RegExp(`^${runtime} `, 'm'));
    assert.match(table, /p50 ms \(IQR\)/);
    const md = benchMarkdown(report);
    const tableLines = md.split('\n').filter((l) => l.startsWith('|'));
    assert.equal(tableLines.length, report.rows.length + 2, 'header, rule and one line per row');
    const png = decodePng(benchChartPng(report));
    assert.ok(png.width >= 720 && png.height > 0);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'aekit-bench-out-'));
    try {
      const files = { json: path.join(dir, 'r.json'), md: path.join(dir, 'r.md'), png: path.join(dir, 'r.png') };
      await writeBenchReport(report, files);
      for (const file of Object.values(files)) assert.ok(existsSync(file), file);
      const json = JSON.parse(readFileSync(files.json, 'utf8')) as BenchReport;
      assert.deepEqual(json.rows.map((r) => [r.runtime, r.batch, r.status]), report.rows.map((r) => [r.runtime, r.batch, r.status]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad settings and an artifact the reference cannot load', async () => {
    await assert.rejects(benchmark(fixture.decoder, { runtimes: ['ort-node-cpu', 'nope' as never] }), /unknown benchmark runtime 'nope'; expected one of: ort-node-cpu/);
    await assert.rejects(benchmark(fixture.decoder, { batches: [0] }), /--batch/);
    await assert.rejects(benchmark(path.join(fixture.runDir, 'missing.onnx')), /no such ONNX file or run folder/);
    await assert.rejects(benchmark(path.join(fixture.runDir, 'config.json'), { runtimes: ['ort-node-cpu'] }), (e: Error) => e.name === 'AekitError');
  });
});

describe('bench: browser rows @slow', function () {
  this.timeout(180_000);

  it('runs the decoder in headless Chromium (wasm and WebGPU) through the web module, in agreement', async () => {
    // A missing Chromium shows as a skipped row, and the assertion below fails with its reason: never a skip.
    const fixture = await benchFixture();
    const report = await benchmark(fixture.decoder, { batches: [4], warmup: 1, runs: 3, threads: 1, runtimes: ['ort-node-cpu', 'chromium-wasm', 'chromium-webgpu'] });
    for (const runtime of ['chromium-wasm', 'chromium-webgpu']) {
      const skipped = report.rows.find((r) => r.runtime === runtime && r.status !== 'ok');
      assert.equal(skipped, undefined, `${runtime}: ${skipped?.reason}`);
      const row = rowOf(report, runtime, 4);
      assert.equal(row.status, 'ok', `${runtime}: ${row.reason}`);
      assert.match(row.detail!, /aekit-web loadDecoder/);
      assert.ok(row.agreement!.ok, `${runtime}: ${JSON.stringify(row.agreement)}`);
      assert.ok(row.latencyMs!.p50 > 0);
    }
  });
});
