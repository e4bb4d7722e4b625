/**
 * `aekit bench` as a user runs it (the built CLI): rows for onnxruntime-node, onnxruntime-web and
 * TensorFlow.js wasm on a trained decoder, the JSON report with exactly the fields
 * docs/benchmarks.md documents, Markdown and PNG outputs, one-line errors for bad flags, and models
 * from other tools (fixtures/onnx/foreign): a refused batch, `--dim`, unknown FLOPs.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePng } from '../../src/core/image-io';
import { PACKAGE_ROOT } from '../../src/core/paths';

const FOREIGN = path.join(PACKAGE_ROOT, 'fixtures', 'onnx', 'foreign');
import { benchFixture } from '../bench/helpers';
import type { BenchFixture } from '../bench/helpers';
import { runCli } from './cli-helpers';

/** The report's fields as docs/benchmarks.md ("JSON report") lists them; optional ones are marked. */
const DOCUMENTED = Object.freeze({
  report: ['schema', 'aekitVersion', 'createdAt', 'model', 'runDir', 'settings', 'machine', 'refusedBatches', 'rows'],
  model: ['path', 'bytes', 'family?', 'part?', 'runId?', 'inputs', 'outputs', 'fixedBatch', 'flopsPerImage', 'flopsLowerBound', 'flopsUncounted'],
  settings: ['runtimes', 'batches', 'dims', 'threads', 'warmup', 'runs', 'maxSeconds', 'seed', 'tolerance', 'reference'],
  machine: ['cpuModel', 'cpus', 'totalMemoryBytes', 'platform', 'release', 'node', 'loadAverage'],
  refusedBatch: ['batch', 'reason'],
  row: ['runtime', 'batch', 'status', 'reason?', 'detail?', 'threads', 'creationMs', 'firstInferenceMs', 'latencyMs', 'imagesPerSecond', 'flops', 'flopsLowerBound', 'gflopsPerSecond', 'memory', 'agreement'],
  latencyMs: ['count', 'p50', 'p95', 'mean', 'min', 'max', 'stdev', 'iqr'],
  memory: ['kind', 'peakBytes', 'baselineBytes?'],
  agreement: ['maxAbsDiff', 'tolerance', 'ok', 'note?'],
});

/** Keys of `value` fit the documented list: every required one present, nothing undocumented. */
function assertFields(value: unknown, documented: readonly string[], where: string): void {
  assert.ok(value && typeof value === 'object', `${where} is an object`);
  const keys = Object.keys(value);
  const names = documented.map((d) => d.replace(/\?$/, ''));
  for (const key of keys) assert.ok(names.includes(key), `${where}.${key} is not documented`);
  for (const d of documented.filter((d) => !d.endsWith('?'))) assert.ok(keys.includes(d), `${where}.${d} is missing`);
}

describe('cli: aekit bench', function () {
  this.timeout(120_000);
  let fixture: BenchFixture;
  let out: string;

  before(async () => {
    fixture = await benchFixture();
    out = mkdtempSync(path.join(os.tmpdir(), 'aekit-bench-cli-'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('prints rows for ort-node-cpu, ort-web-wasm and tfjs-wasm and writes the JSON, Markdown and PNG reports', async () => {
    const files = { json: path.join(out, 'bench.json'), md: path.join(out, 'bench.md'), png: path.join(out, 'bench.png') };
    const result = await runCli([
      'bench', fixture.decoder,
      '--runtimes', 'ort-node-cpu,ort-web-wasm,tfjs-wasm',
      '--batch', '1,4', '--warmup', '1', '--runs', '3', '--threads', '1',
      '--json', files.json, '--md', files.md, '--png', files.png,
    ]);
    assert.equal(result.code, 0, result.stderr);
    for (const runtime of ['ort-node-cpu', 'ort-web-wasm', 'tfjs-wasm']) {
      for (const batch of [1, 4]) assert.match(result.stdout, new RegExp(`^${runtime} +${batch} `, 'm'), `${runtime} at batch ${batch}`);
    }
    assert.match(result.stdout, /^ort-node-cpu .* reference$/m);
    assert.match(result.stdout, /^tfjs-wasm .* yes$/m);

    const report = JSON.parse(readFileSync(files.json, 'utf8')) as Record<string, Record<string, unknown>>;
    assertFields(report, DOCUMENTED.report, 'report');
    assertFields(report.model, DOCUMENTED.model, 'model');
    assertFields(report.settings, DOCUMENTED.settings, 'settings');
    assertFields(report.machine, DOCUMENTED.machine, 'machine');
    const rows = report.rows as unknown as Record<string, unknown>[];
    assert.equal(rows.length, 6);
    for (const row of rows) {
      const where = `row ${row.runtime}/${row.batch}`;
      assertFields(row, DOCUMENTED.row, where);
      assertFields(row.latencyMs, DOCUMENTED.latencyMs, `${where}.latencyMs`);
      assertFields(row.memory, DOCUMENTED.memory, `${where}.memory`);
      assertFields(row.agreement, DOCUMENTED.agreement, `${where}.agreement`);
      assert.equal((row.agreement as { ok: boolean }).ok, true, where);
    }
    assert.equal(readFileSync(files.md, 'utf8').split('\n').filter((l) => l.startsWith('| ')).length, 8, 'Markdown: header, rule and six rows');
    assert.ok(decodePng(readFileSync(files.png)).width > 0);
  });

  it('refuses the batch sizes a fixed-shape model cannot run, with the reason, and documents the JSON fields (PyTorch conv)', async () => {
    const json = path.join(out, 'fixed.json');
    const result = await runCli(['bench', path.join(FOREIGN, 'torch-conv-fixed.onnx'), '--runtimes', 'ort-node-cpu', '--batch', '1,16', '--warmup', '0', '--runs', '2', '--json', json]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ort-node-cpu +1 /m);
    assert.doesNotMatch(result.stdout, /^ort-node-cpu +16 /m);
    assert.match(result.stdout, /^\(all\) +16 +refused: the model runs 1 image at a time \(input 'x' has the fixed shape \[1, 3, 32, 32\]/m);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Record<string, Record<string, unknown>>;
    assertFields(report, DOCUMENTED.report, 'report');
    assertFields(report.model, DOCUMENTED.model, 'model');
    const refused = report.refusedBatches as unknown as Record<string, unknown>[];
    assert.equal(refused.length, 1);
    assertFields(refused[0], DOCUMENTED.refusedBatch, 'refusedBatches[0]');
    assert.equal(report.model.fixedBatch, 1);
  });

  it('sizes symbolic dims with --dim and prints unknown FLOPs as unknown; a bad --dim is one line naming the flag', async () => {
    const file = path.join(FOREIGN, 'onnx-fp16-seq.onnx');
    const result = await runCli(['bench', file, '--runtimes', 'ort-node-cpu', '--batch', '2', '--dim', 'seq=5', '--warmup', '0', '--runs', '2']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /unknown FLOPs per image .*; seq=5;/);
    assert.match(result.stdout, /^ort-node-cpu +2 .* unknown /m);
    const missing = await runCli(['bench', file, '--runtimes', 'ort-node-cpu', '--batch', '2']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    assert.match(missing.stderr, /symbolic dimension 'seq' at axis 1, which is not the batch; give its size with --dim seq=<size>/);
    const bad = await runCli(['bench', file, '--dim', 'seq']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^aekit: --dim\.0: expected name=size with a positive whole size, got 'seq'/);
  });

  it('documents every JSON field in docs/benchmarks.md', () => {
    const docs = readFileSync(path.join(PACKAGE_ROOT, 'docs', 'benchmarks.md'), 'utf8');
    for (const name of new Set(Object.values(DOCUMENTED).flat().map((d) => d.replace(/\?$/, '')))) {
      assert.ok(docs.includes(`\`${name}\``), `docs/benchmarks.md does not mention \`${name}\``);
    }
  });

  it('rejects an unknown runtime and a bad batch list with one line naming the flag', async () => {
    const unknown = await runCli(['bench', fixture.decoder, '--runtimes', 'ort-node-cpu,ort-node-tpu']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
    assert.match(unknown.stderr, /unknown benchmark runtime 'ort-node-tpu'; expected one of: ort-node-cpu, ort-node-webgpu/);
    const badBatch = await runCli(['bench', fixture.decoder, '--batch', '1,x']);
    assert.equal(badBatch.code, 1);
    assert.match(badBatch.stderr, /^aekit: --batch\.1: expected a number, got 'x'/);
    const help = await runCli(['bench', '--help']);
    assert.match(help.stdout, /Examples:\n {2}aekit bench /);
  });
});
