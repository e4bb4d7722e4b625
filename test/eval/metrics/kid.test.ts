import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_FIXTURE_DIR, readF32 } from '../../../scripts/make-metric-fixtures';
import type { KidReference } from '../../../scripts/make-kid-fixtures';
import { Rng } from '../../../src/core/rng';
import { KID_DEFAULTS, kid, mmdOfSubsets } from '../../../src/eval/metrics/kid';
import { rejectsWith } from '../helpers';

/**
 * Agreement with kid_reference.py (numpy, float64). aekit computes each subset's MMD² in float64
 * and rounds it to float32 once (onnxruntime's outputs are float32 here): 6e-8 relative, plus
 * MatMul summation order. The same-distribution value is a difference of kernel means ~1e4 times
 * larger than itself, so its bound is absolute: 1e-9 of the mean kernel value (~1e2 here).
 */
const KID_RELATIVE_TOLERANCE = 1e-6;
const KID_ABSOLUTE_TOLERANCE = 1e-7;

const reference = JSON.parse(readFileSync(join(METRIC_FIXTURE_DIR, 'kid-reference.json'), 'utf8')) as KidReference;

function close(actual: number, expected: number, what: string): void {
  const bound = Math.max(KID_RELATIVE_TOLERANCE * Math.abs(expected), KID_ABSOLUTE_TOLERANCE);
  assert.ok(Math.abs(actual - expected) <= bound, `${what}: aekit ${actual}, numpy ${expected} (|diff| ${Math.abs(actual - expected)} > ${bound})`);
}

describe('KID (unbiased MMD², cubic kernel) against numpy (kid_reference.py)', () => {
  for (const c of reference.cases) {
    it(`${c.name}: ${c.description}`, async () => {
      const a = readF32(c.a);
      const b = readF32(c.b);
      if (!c.subsets) {
        const result = await kid(a, c.nA, b, c.nB, c.d, { subsetSize: Math.min(c.nA, c.nB), subsets: 1 });
        // Unequal sets: one random subset of 40 from 48 is not the reference's first 40, so take those rows.
        const m = Math.min(c.nA, c.nB);
        const first = await mmdOfSubsets(a, b, c.d, [{ a: Int32Array.from({ length: m }, (_, i) => i), b: Int32Array.from({ length: m }, (_, i) => i) }]);
        close(first[0], c.mean, `${c.name} (first ${m} rows)`);
        if (c.nA === c.nB) {
          assert.deepEqual([result.subsets, result.subsetSize, result.std], [1, m, 0]);
          close(result.mean, c.mean, c.name);
        }
        return;
      }
      const rows = readFileSync(join(METRIC_FIXTURE_DIR, c.subsets.rows));
      const drawn = new Int32Array(rows.buffer.slice(rows.byteOffset, rows.byteOffset + rows.byteLength));
      const { count, size } = c.subsets;
      const subsets = Array.from({ length: count }, (_, s) => ({ a: drawn.subarray(2 * s * size, (2 * s + 1) * size), b: drawn.subarray((2 * s + 1) * size, (2 * s + 2) * size) }));
      const values = await mmdOfSubsets(a, b, c.d, subsets);
      const mean = values.reduce((s, v) => s + v, 0) / count;
      const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / count);
      close(mean, c.mean, `${c.name} mean`);
      close(std, c.std, `${c.name} std`);
    });
  }

  it('kid(): torchmetrics defaults, seeded subsets, and the same mean within a few std of the reference subsets', async () => {
    const c = reference.cases.find((x) => x.name === 'different-subsets')!;
    const [a, b] = [readF32(c.a), readF32(c.b)];
    const first = await kid(a, c.nA, b, c.nB, c.d, { subsets: 20, subsetSize: 100, seed: 7 });
    const again = await kid(a, c.nA, b, c.nB, c.d, { subsets: 20, subsetSize: 100, seed: 7 });
    assert.deepEqual(again, first);
    assert.deepEqual([first.subsets, first.subsetSize], [20, 100]);
    // Other draws of the same subsets: the means agree to within the spread of a mean of 20.
    assert.ok(Math.abs(first.mean - c.mean) < 4 * (c.std / Math.sqrt(20)) * Math.SQRT2, `${first.mean} vs ${c.mean} ± ${c.std}`);
    // Defaults: subsets of 1,000 rows; with exactly 1,000 rows per set every subset is the whole set, so one is drawn.
    const defaults = await kid(a, c.nA, b, c.nB, c.d);
    assert.deepEqual([defaults.subsets, defaults.subsetSize], [1, KID_DEFAULTS.subsetSize]);
    const fewer = await kid(a, c.nA, b.subarray(0, 999 * c.d), 999, c.d, { subsetSize: 500 });
    assert.deepEqual([fewer.subsets, fewer.subsetSize], [KID_DEFAULTS.subsets, 500]);
  });

  it('is unbiased: two samples of one law score near 0 at n = 50 already, where FID would not', async () => {
    const rng = new Rng(11);
    const d = 32;
    const a = rng.normalArray(50 * d);
    const b = rng.normalArray(50 * d);
    const result = await kid(a, 50, b, 50, d);
    assert.equal(result.subsets, 1);
    assert.ok(Math.abs(result.mean) < 0.05, `KID of one law at n = 50: ${result.mean}`);
    const shifted = b.map((v) => v + 1);
    assert.ok((await kid(a, 50, shifted, 50, d)).mean > 10 * Math.abs(result.mean) + 0.1);
  });

  it('bad input: sizes, too few rows, non-finite features, each naming the argument', async () => {
    const a = new Float32Array(12);
    await rejectsWith(kid(a, 4, a, 4, 4), 'BAD_ARGUMENT', /expected n\*d = 4\*4 = 16 values, found 12/);
    await rejectsWith(kid(a, 1, a.subarray(0, 12), 1, 12), 'BAD_ARGUMENT', /at least 2 feature vectors, found 1/);
    const bad = new Float32Array(12);
    bad[5] = Number.NaN;
    await rejectsWith(kid(a, 3, bad, 3, 4), 'BAD_ARGUMENT', /finite features, found NaN at row 1, column 1/);
    await rejectsWith(kid(a, 3, a, 3, 4, { subsets: 0 }), 'BAD_ARGUMENT', /whole number >= 1, found 0/);
  });
});
