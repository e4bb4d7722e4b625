import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { FP16_TOLERANCE, FP32_TOLERANCE, ORT_RUNTIMES } from '../../src/export';
import { exportLayersModel } from '../../src/export/export';
import { verifyOnnx } from '../../src/export/verify';
import { TEST_MODEL_NAMES, buildTestModel } from './models';

/** Batches checked: 1 and an odd batch > 1, from the same file (symbolic batch). */
const BATCHES = [1, 7];
const SEED = 42;
/**
 * Set AEKIT_EXPORT_DUMP_DIR to keep the artifacts (e.g. to run onnx.checker on them by hand);
 * the tests themselves never need Python.
 */
const DUMP_DIR = process.env.AEKIT_EXPORT_DUMP_DIR;

describe('export: tfjs -> ONNX parity on onnxruntime-node and onnxruntime-web', function () {
  this.timeout(600_000);
  const figures: string[] = [];

  before(async () => {
    await useBackend('wasm');
    if (DUMP_DIR) mkdirSync(DUMP_DIR, { recursive: true });
  });

  after(() => {
    if (process.env.AEKIT_EXPORT_FIGURES) console.log(`\n${figures.join('\n')}`);
  });

  for (const name of TEST_MODEL_NAMES) {
    it(`${name}: fp32 matches tfjs on both runtimes at batch ${BATCHES.join(' and ')}`, async () => {
      const test = buildTestModel(name);
      try {
        const result = await exportLayersModel(test.model, { part: test.part, metadata: test.metadata });
        if (DUMP_DIR) writeFileSync(join(DUMP_DIR, `${name}.onnx`), result.bytes);
        for (const batch of BATCHES) {
          const report = await verifyOnnx(test.model, result.bytes, { seed: SEED, batch });
          assert.equal(report.tolerance, FP32_TOLERANCE);
          assert.deepEqual(report.runtimes.map((r) => r.runtime), [...ORT_RUNTIMES]);
          assert.equal(report.runtimes[0].outputs.length, test.model.outputs.length);
          assert.ok(report.maxAbsDiff <= FP32_TOLERANCE, `${name} batch ${batch}: ${report.maxAbsDiff}`);
          figures.push(`${name} fp32 batch ${batch}: ${report.runtimes.map((r) => `${r.runtime} ${r.maxAbsDiff.toExponential(2)}`).join(', ')}`);
        }
      } finally {
        test.model.dispose();
      }
    });

    it(`${name}: fp16 weights match tfjs within ${FP16_TOLERANCE} and the file shrinks`, async () => {
      const test = buildTestModel(name);
      try {
        const result = await exportLayersModel(test.model, { part: test.part, metadata: test.metadata, fp16: true, seed: SEED });
        if (DUMP_DIR) writeFileSync(join(DUMP_DIR, `${name}.fp16.onnx`), result.bytes);
        const fp16 = result.fp16Report;
        assert.ok(fp16, 'fp16 report');
        assert.equal(fp16.bytesFp16, result.bytes.length);
        assert.ok(fp16.bytesSaved > 0 && fp16.bytesFp16 < fp16.bytesFp32, `saved ${fp16.bytesSaved}`);
        assert.ok(fp16.maxOutputError <= FP16_TOLERANCE, `fp16 vs fp32 ${fp16.maxOutputError}`);
        const report = await verifyOnnx(test.model, result.bytes, { seed: SEED, batch: BATCHES[BATCHES.length - 1] });
        assert.ok(report.fp16);
        assert.equal(report.tolerance, FP16_TOLERANCE);
        figures.push(
          `${name} fp16 batch ${report.batch}: ${report.runtimes.map((r) => `${r.runtime} ${r.maxAbsDiff.toExponential(2)}`).join(', ')}; ` +
            `${fp16.bytesFp32} -> ${fp16.bytesFp16} bytes (saved ${fp16.bytesSaved}), max weight error ${fp16.maxWeightError.toExponential(2)}, ` +
            `max output error vs fp32 ${fp16.maxOutputError.toExponential(2)}`,
        );
      } finally {
        test.model.dispose();
      }
    });
  }

  it('export and verification leave no tfjs tensors behind', async () => {
    const before = tf.memory().numTensors;
    const test = buildTestModel('cvae-decoder');
    const result = await exportLayersModel(test.model, { part: test.part, metadata: test.metadata, fp16: true });
    await verifyOnnx(test.model, result.bytes, { seed: SEED, runtimes: ['ort-node-cpu'] });
    test.model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
