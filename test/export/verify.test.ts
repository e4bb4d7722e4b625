/**
 * Export verification by allclose (|onnx - tfjs| <= atol + rtol·|tfjs|): unbounded outputs pass
 * where float32 rounding exceeds any fixed absolute bound; a real disagreement fails with the worst
 * element, its magnitude and relative error, and the flags that change the bound.
 */
import { strict as assert } from 'node:assert';
import { AekitError } from '../../src/core/errors';
import { FP32_CLOSE } from '../../src/core/allclose';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { FP32_TOLERANCE } from '../../src/export';
import { exportLayersModel } from '../../src/export/export';
import { verifyOnnx } from '../../src/export/verify';
import { buildTestModel } from './models';
import type { TestModel } from './models';

/** Scale of the code head: codes in the 1e4-1e5 range, like an AE's unbounded codes but further out. */
const CODE_SCALE = 1e5;

/** The conv encoder with its 'mu' head scaled by {@link CODE_SCALE}: unbounded codes. */
function largeCodeEncoder(): TestModel {
  const test = buildTestModel('conv-encoder');
  const head = test.model.getLayer('mu');
  const scaled = head.getWeights().map((w) => tf.mul(w, CODE_SCALE));
  head.setWeights(scaled);
  tf.dispose(scaled);
  return test;
}

describe('export: verification by allclose', function () {
  this.timeout(300_000);

  before(async () => {
    await useBackend('wasm');
  });

  it('passes large unbounded codes that differ from tfjs by more than the absolute bound alone allows', async () => {
    const test = largeCodeEncoder();
    try {
      const { bytes } = await exportLayersModel(test.model, { part: test.part, metadata: test.metadata });
      const report = await verifyOnnx(test.model, bytes, { seed: 4, batch: 5 });
      assert.equal(report.rtol, FP32_CLOSE.rtol);
      assert.equal(report.tolerance, FP32_CLOSE.atol);
      const codes = tf.tidy(() => tf.max(tf.abs((test.model.predict(tf.randomUniform([5, 17, 15, 3], 0, 1, 'float32', 4)) as tf.Tensor[])[0])).dataSync()[0]);
      assert.ok(codes > 1e3, `codes are large: max |mu| ${codes}`);
      const mu = report.runtimes.map((r) => r.outputs.find((o) => o.name === 'mu')!);
      for (const output of mu) {
        assert.ok(output.worst!.ratio <= 1, `within the bound: ${JSON.stringify(output.worst)}`);
        assert.ok(output.worst!.relDiff < FP32_CLOSE.rtol / 10, `float32 rounding, well inside rtol: relative ${output.worst!.relDiff}`);
      }
      assert.ok(report.maxAbsDiff > FP32_TOLERANCE, `a pure absolute bound of ${FP32_TOLERANCE} would refuse this artifact: max |diff| ${report.maxAbsDiff}`);
    } finally {
      test.model.dispose();
    }
  });

  it('--rtol/--atol set the bound: without its relative part the same artifact fails', async () => {
    const test = largeCodeEncoder();
    try {
      const { bytes } = await exportLayersModel(test.model, { part: test.part, metadata: test.metadata });
      await assert.rejects(verifyOnnx(test.model, bytes, { seed: 4, batch: 5, rtol: 0 }), (error: unknown) => {
        assert.ok(error instanceof AekitError && error.code === 'VERIFY_FAILED', String(error));
        assert.match(error.message, /output 'mu' differs from tfjs beyond the tolerance 0\.0001 \+ 0·\|tfjs\|/);
        return true;
      });
      const loose = await verifyOnnx(test.model, bytes, { seed: 4, batch: 5, rtol: 0, atol: 1 });
      assert.equal(loose.tolerance, 1);
      await assert.rejects(verifyOnnx(test.model, bytes, { seed: 4, rtol: -1 }), (error: unknown) => error instanceof AekitError && error.code === 'BAD_ARGUMENT' && /rtol must be a number >= 0, found -1/.test(error.message));
    } finally {
      test.model.dispose();
    }
  });

  it('a real disagreement names the worst element, its magnitude and relative error, and the flags', async () => {
    const test = buildTestModel('mlp-encoder');
    try {
      const { bytes } = await exportLayersModel(test.model, { part: test.part, metadata: test.metadata });
      const head = test.model.getLayer('logvar');
      const shifted = head.getWeights().map((w) => tf.add(w, 0.05));
      head.setWeights(shifted);
      tf.dispose(shifted);
      await assert.rejects(verifyOnnx(test.model, bytes, { seed: 2, runtimes: ['ort-node-cpu'] }), (error: unknown) => {
        assert.ok(error instanceof AekitError && error.code === 'VERIFY_FAILED', String(error));
        assert.equal(error.where, 'ort-node-cpu');
        const match = /output 'logvar' .* at element (\d+), onnx (\S+) vs tfjs (\S+) \(\|diff\| (\S+), relative (\S+), (\S+)x the allowed (\S+)\)/.exec(error.message);
        assert.ok(match, error.message);
        const [onnxValue, tfjsValue, diff, relative, ratio, allowed] = match.slice(2).map(Number);
        assert.ok(Math.abs(Math.abs(onnxValue - tfjsValue) - diff) <= 1e-3 * diff, 'the difference is of the two values shown');
        assert.ok(Math.abs(relative - diff / Math.abs(tfjsValue)) <= 1e-3 * relative, 'relative to the tfjs value');
        assert.ok(Math.abs(allowed - (FP32_CLOSE.atol + FP32_CLOSE.rtol * Math.abs(tfjsValue))) <= 1e-3 * allowed, 'the bound at that element');
        assert.ok(ratio > 1);
        assert.match(error.message, /--rtol\/--atol/);
        assert.match(error.message, /--no-verify/);
        return true;
      });
    } finally {
      test.model.dispose();
    }
  });
});
