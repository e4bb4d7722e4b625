import { strict as assert } from 'node:assert';
import { allclose, compareClose, describeTolerance, FP16_CLOSE, FP32_CLOSE } from '../../src/core/allclose';

describe('core/allclose: |a - b| <= atol + rtol·|b|', () => {
  it('scales the bound with the reference value (numpy.isclose semantics)', () => {
    const tolerance = { rtol: 1e-3, atol: 1e-4 };
    // At 1000 the bound is 1.0001; at 0 it is 1e-4.
    assert.equal(allclose([1000.9], [1000], tolerance), true);
    assert.equal(allclose([1001.2], [1000], tolerance), false);
    assert.equal(allclose([5e-5], [0], tolerance), true);
    assert.equal(allclose([2e-4], [0], tolerance), false);
    // b is the reference: the bound uses |b|, not |a| (as numpy.isclose, it is not symmetric).
    assert.equal(allclose([0], [100], { rtol: 0.5, atol: 0 }), false);
    assert.equal(allclose([100], [0], { rtol: 0.5, atol: 0 }), false);
    assert.equal(allclose([60], [100], { rtol: 0.5, atol: 0 }), true);
  });

  it('reports the element furthest from its bound, with its magnitude and relative error', () => {
    const result = compareClose([1, 10.002, 0.0003], [1, 10, 0], { rtol: 1e-3, atol: 1e-4 });
    assert.equal(result.ok, false);
    assert.ok(Math.abs(result.maxAbsDiff - 0.002) < 1e-9);
    // 10.002 vs 10 uses 0.002 / 0.0101 = 0.2 of its bound; 0.0003 vs 0 uses 3x its bound.
    const worst = result.worst!;
    assert.equal(worst.index, 2);
    assert.equal(worst.expected, 0);
    assert.equal(worst.relDiff, Infinity);
    assert.ok(Math.abs(worst.ratio - 3) < 1e-9);
    const close = compareClose([10.002], [10], { rtol: 1e-3, atol: 1e-4 });
    assert.equal(close.ok, true);
    assert.ok(Math.abs(close.worst!.relDiff - 2e-4) < 1e-9);
  });

  it('never calls NaN or arrays of other lengths close', () => {
    assert.equal(allclose([Number.NaN], [1], { rtol: 1, atol: 1 }), false);
    assert.equal(allclose([1], [Number.NaN], { rtol: 1, atol: 1 }), false);
    assert.equal(compareClose([Number.NaN], [1], FP32_CLOSE).maxAbsDiff, Infinity);
    assert.equal(allclose([1, 2], [1], FP32_CLOSE), false);
    assert.equal(allclose([], [], FP32_CLOSE), true);
  });

  it('has named defaults for fp32 and fp16 artifacts, and prints a bound readably', () => {
    assert.deepEqual({ ...FP32_CLOSE }, { rtol: 1e-3, atol: 1e-4 });
    assert.deepEqual({ ...FP16_CLOSE }, { rtol: 1e-2, atol: 1e-2 });
    assert.ok(Object.isFrozen(FP32_CLOSE) && Object.isFrozen(FP16_CLOSE));
    assert.equal(describeTolerance(FP32_CLOSE, 'tfjs'), '0.0001 + 0.001·|tfjs|');
  });
});
