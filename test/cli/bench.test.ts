/**
 * `aekit bench` as a user runs it (the built CLI): rows for onnxruntime-node, onnxruntime-web and
 * TensorFlow.js wasm on a trained decoder, the JSON report with exactly the fields
 * docs/benchmarks.md documents, Markdown and PNG outputs, and one-line errors for bad flags.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePng } from '../../src/core/image-io';
import { PACKAGE_ROOT } from '../../src/core/paths';
import { benchFixture } from '../bench/helpers';
import type { BenchFixture } from '../bench/helpers';
import { runCli } from './cli-helpers';

/** The report's fields as docs/benchmarks.md ("JSON report") lists them; optional ones are marked. */
const DOCUMENTED = Object.freeze({
  report: ['schema', 'aekitVersion', 'createdAt', 'model', 'runDir', 'settings', 'machine', 'rows'],
  model: ['path', 'bytes', 'family?', 'part?', 'runId?', 'inputs', 'outputs', 'flopsPerImage', 'flopsUncounted'],
  settings: ['runtimes', 'batches', 'threads', 'warmup', 'runs', 'maxSeconds', 'seed', 'tolerance', 'reference'],
  machine: ['cpuModel', 'cpus', 'totalMemoryBytes', 'platform', 'release', 'node', 'loadAverage'],
  row: ['runtime', 'batch', 'status', 'reason?', 'detail?', 'threads', 'creationMs', 'firstInferenceMs', 'latencyMs', 'imagesPerSecond', 'flops', 'gflopsPerSecond', 'memory', 'agreement'],
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
