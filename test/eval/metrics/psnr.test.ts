import { strict as assert } from 'node:assert';
import { loadMetricReference, readF32 } from '../../../scripts/make-metric-fixtures';
import { isAekitError } from '../../../src/core/errors';
import { meanPsnr, psnr } from '../../../src/eval/metrics';

/** Agreement with scikit-image's peak_signal_noise_ratio (printed to 10 significant digits), relative. */
const PSNR_RELATIVE_TOLERANCE = 1e-6;

/** Closed-form values and exact identities: float64 rounding only. */
const EXACT_TOLERANCE = 1e-12;

const reference = loadMetricReference();

function expectBadArgument(fn: () => unknown, where: string): void {
  assert.throws(fn, (e: unknown) => isAekitError(e) && e.code === 'BAD_ARGUMENT' && (e.where ?? '').includes(where));
}

describe('eval/metrics/psnr', () => {
  for (const c of reference.psnr.cases) {
    it(`agrees with scikit-image on ${c.name} (${c.description})`, () => {
      const got = psnr(readF32(c.a), readF32(c.b), c.height, c.width, c.channels);
      assert.ok(
        Math.abs(got - c.value) <= PSNR_RELATIVE_TOLERANCE * Math.abs(c.value),
        `PSNR ${got}, reference ${c.value} (${c.command})`,
      );
    });
  }

  it('is Infinity between an image and itself', () => {
    const c = reference.psnr.cases[0];
    const x = readF32(c.a);
    assert.equal(psnr(x, x, c.height, c.width, c.channels), Infinity);
  });

  it('matches a hand-computed value: one pixel off by half the range in a 4x4 image', () => {
    const [h, w, offBy] = [4, 4, 0.5];
    const a = new Float32Array(h * w);
    const b = new Float32Array(h * w);
    b[5] = offBy;
    // MSE = offBy² / 16 = 1/64, so PSNR = 10·log10(1 / (1/64)) = 10·log10(64) ≈ 18.06 dB.
    const expected = 10 * Math.log10(1 / ((offBy * offBy) / (h * w)));
    assert.ok(Math.abs(psnr(a, b, h, w, 1) - expected) <= EXACT_TOLERANCE);
    // The same error on a 0-255 scale is the same PSNR.
    const bytes = b.map((v) => v * 255);
    assert.ok(Math.abs(psnr(a, bytes, h, w, 1, { dataRange: 255 }) - expected) <= EXACT_TOLERANCE);
  });

  it('meanPsnr is the mean of per-image PSNRs (Infinity if one pair is identical)', () => {
    const group = reference.psnr.cases.filter((c) => c.height === 28 && c.channels === 3);
    const c0 = group[0];
    const size = c0.height * c0.width * c0.channels;
    const a = new Float32Array(group.length * size);
    const b = new Float32Array(group.length * size);
    group.forEach((c, i) => {
      a.set(readF32(c.a), i * size);
      b.set(readF32(c.b), i * size);
    });
    const expected = group.reduce((s, c) => s + c.value, 0) / group.length;
    const got = meanPsnr(a, b, group.length, c0.height, c0.width, c0.channels);
    assert.ok(Math.abs(got - expected) <= PSNR_RELATIVE_TOLERANCE * expected, `meanPsnr ${got}, expected ${expected}`);
    b.set(a.subarray(0, size));
    assert.equal(meanPsnr(a, b, group.length, c0.height, c0.width, c0.channels), Infinity);
  });

  it('rejects bad arguments, naming them', () => {
    const x = new Float32Array(12);
    expectBadArgument(() => psnr(x, new Float32Array(11), 2, 2, 3), 'psnr(b)');
    expectBadArgument(() => psnr(x, Float32Array.from(x, () => Infinity), 2, 2, 3), 'psnr(b)');
    expectBadArgument(() => psnr(x, x, 2, -2, 3), 'psnr(width)');
    expectBadArgument(() => psnr(x, x, 2, 2, 3, { dataRange: NaN }), 'psnr(opts.dataRange)');
    expectBadArgument(() => meanPsnr(x, x, 3, 2, 2, 3), 'meanPsnr(a)');
  });
});
