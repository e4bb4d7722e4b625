import { strict as assert } from 'node:assert';
import { loadMetricReference, readF32 } from '../../../scripts/make-metric-fixtures';
import { isAekitError } from '../../../src/core/errors';
import { meanSsim, ssim } from '../../../src/eval/metrics';

/** Agreement with scikit-image's structural_similarity, absolute: the acceptance criterion of issue #4. */
const SSIM_ABSOLUTE_TOLERANCE = 1e-4;

/** Identities that hold exactly in real arithmetic (ssim(x, x) = 1, scale invariance): float64 rounding only. */
const EXACT_TOLERANCE = 1e-12;

const reference = loadMetricReference();

function expectBadArgument(fn: () => unknown, where: string): void {
  assert.throws(fn, (e: unknown) => isAekitError(e) && e.code === 'BAD_ARGUMENT' && (e.where ?? '').includes(where));
}

describe('eval/metrics/ssim', () => {
  for (const c of reference.ssim.cases) {
    it(`agrees with scikit-image on ${c.name} (${c.description})`, () => {
      const got = ssim(readF32(c.a), readF32(c.b), c.height, c.width, c.channels);
      assert.ok(
        Math.abs(got - c.value) <= SSIM_ABSOLUTE_TOLERANCE,
        `SSIM ${got}, reference ${c.value} (${c.command})`,
      );
    });
  }

  it('is 1 between an image and itself', () => {
    for (const c of reference.ssim.cases) {
      const x = readF32(c.a);
      assert.ok(Math.abs(ssim(x, x, c.height, c.width, c.channels) - 1) <= EXACT_TOLERANCE, c.a);
    }
  });

  it('is invariant to scaling the images and dataRange together', () => {
    for (const c of reference.ssim.cases) {
      const a = readF32(c.a);
      const b = readF32(c.b);
      const scaled = ssim(a.map((v) => 2 * v), b.map((v) => 2 * v), c.height, c.width, c.channels, { dataRange: 2 });
      assert.ok(Math.abs(scaled - ssim(a, b, c.height, c.width, c.channels)) <= EXACT_TOLERANCE, c.name);
    }
  });

  it('meanSsim averages over images stored back to back', () => {
    const c0 = reference.ssim.cases[0];
    const group = reference.ssim.cases.filter(
      (c) => c.height === c0.height && c.width === c0.width && c.channels === c0.channels,
    );
    const size = c0.height * c0.width * c0.channels;
    const a = new Float32Array(group.length * size);
    const b = new Float32Array(group.length * size);
    group.forEach((c, i) => {
      a.set(readF32(c.a), i * size);
      b.set(readF32(c.b), i * size);
    });
    const expected = group.reduce((s, c) => s + c.value, 0) / group.length;
    const got = meanSsim(a, b, group.length, c0.height, c0.width, c0.channels);
    assert.ok(Math.abs(got - expected) <= SSIM_ABSOLUTE_TOLERANCE, `meanSsim ${got}, mean of references ${expected}`);
  });

  it('rejects bad arguments, naming them', () => {
    const x = new Float32Array(16 * 16);
    expectBadArgument(() => ssim(x, new Float32Array(16 * 15), 16, 16, 1), 'ssim(b)');
    const short = new Float32Array(10 * 16);
    expectBadArgument(() => ssim(short, short, 10, 16, 1), 'ssim(height, width)');
    expectBadArgument(() => ssim(x, x, 16, 16, 0), 'ssim(channels)');
    expectBadArgument(() => ssim(Float32Array.from(x, (_, i) => (i === 7 ? NaN : 0)), x, 16, 16, 1), 'ssim(a)');
    expectBadArgument(() => ssim(x, x, 16, 16, 1, { dataRange: 0 }), 'ssim(opts.dataRange)');
    expectBadArgument(() => meanSsim(x, x, 2, 16, 16, 1), 'meanSsim(a)');
    expectBadArgument(() => meanSsim(x, x, 0, 16, 16, 1), 'meanSsim(count)');
  });
});
