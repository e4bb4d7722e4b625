/** Agreement of outputs with the reference: allclose per element, the largest difference, and why outputs cannot be compared. */
import { strict as assert } from 'node:assert';
import { compareOutputs } from '../../src/bench/agreement';

/** A purely absolute bound, as these cases were written for. */
const ABS = { atol: 1e-3, rtol: 0 };

describe('bench: compareOutputs', () => {
  const t = (values: number[], dims = [values.length]) => ({ data: Float32Array.from(values), dims });

  it('takes the largest difference over every output', () => {
    const a = compareOutputs({ mu: t([1, 2]), logvar: t([0, 0.5]) }, { mu: t([1, 2.0004]), logvar: t([0.002, 0.5]) }, ABS);
    assert.ok(Math.abs(a.maxAbsDiff - 0.002) < 1e-7);
    assert.equal(a.ok, false);
  });

  it('scales the bound with the reference value (allclose), so large unbounded outputs are not flagged for rounding', () => {
    const tolerance = { atol: 1e-3, rtol: 1e-3 };
    const large = compareOutputs({ code: t([1000.5, 0]) }, { code: t([1000, 0]) }, tolerance);
    assert.equal(large.ok, true, 'a difference of 0.5 at 1000 is within 1e-3 + 1e-3 * 1000');
    assert.equal(compareOutputs({ code: t([1000.5, 0.002]) }, { code: t([1000, 0]) }, tolerance).ok, false, 'near zero only the absolute part applies');
  });

  it('compares integer and bool outputs (float64 numbers) as well as float32 ones', () => {
    const ints = (values: number[]) => ({ data: Float64Array.from(values), dims: [values.length] });
    assert.equal(compareOutputs({ pred: ints([3, 1]) }, { pred: ints([3, 1]) }, ABS).maxAbsDiff, 0);
    const other = compareOutputs({ pred: ints([3, 2]) }, { pred: ints([3, 1]) }, ABS);
    assert.deepEqual([other.maxAbsDiff, other.ok], [1, false], 'another argmax class is a disagreement');
  });

  it('counts a missing output, another shape or NaN as infinitely far, saying why', () => {
    const missing = compareOutputs({}, { image: t([1]) }, ABS);
    assert.equal(missing.maxAbsDiff, Infinity);
    assert.match(missing.note!, /output 'image' missing/);
    const shape = compareOutputs({ image: t([1, 2], [1, 2]) }, { image: t([1, 2], [2, 1]) }, ABS);
    assert.match(shape.note!, /shape \[1, 2\], reference \[2, 1\]/);
    assert.equal(compareOutputs({ image: t([NaN]) }, { image: t([1]) }, ABS).maxAbsDiff, Infinity);
  });
});
