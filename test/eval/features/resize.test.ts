import { strict as assert } from 'node:assert';
import { resizeBilinear } from '../../../src/eval/features/resize';
import { rejectsWith } from '../helpers';
import { fixtureF32, inceptionReference } from './fixture';

/**
 * Agreement with torch.nn.functional.interpolate(mode='bilinear', align_corners=False): the same
 * taps and weights, float32 rounding of the result (torch 1.13 rounds each product; aekit once).
 * 2 ulps of values in [-1, 1].
 */
const RESIZE_ABSOLUTE_TOLERANCE = 2.4e-7;

describe('resizeBilinear: PyTorch bilinear, align_corners=False', () => {
  const all = fixtureF32(inceptionReference.resize.file);
  let at = 0;
  for (const { shape, size } of inceptionReference.resize.cases) {
    const [n, c, h, w] = shape;
    const input = all.subarray(at, at + n * c * h * w);
    at += input.length;
    const expected = all.subarray(at, at + n * c * size[0] * size[1]);
    at += expected.length;
    it(`[${shape.join(', ')}] -> ${size.join('x')} matches torch to ${RESIZE_ABSOLUTE_TOLERANCE}`, () => {
      const got = resizeBilinear(input, n * c, h, w, size[0], size[1]);
      assert.equal(got.length, expected.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
      assert.ok(worst <= RESIZE_ABSOLUTE_TOLERANCE, `max |aekit - torch| = ${worst}`);
    });
  }

  it('keeps constants constant, returns the input at its own size, and names bad arguments', async () => {
    const flat = new Float32Array(3 * 5 * 7).fill(0.25);
    assert.ok(resizeBilinear(flat, 3, 5, 7, 299, 299).every((v) => v === 0.25));
    assert.equal(resizeBilinear(flat, 3, 5, 7, 5, 7), flat);
    await rejectsWith(Promise.resolve().then(() => resizeBilinear(flat, 2, 5, 7, 9, 9)), 'BAD_ARGUMENT', /expected 2 planes of 5x7 = 70 values, found 105/);
    await rejectsWith(Promise.resolve().then(() => resizeBilinear(flat, 3, 5, 7, 0, 9)), 'BAD_ARGUMENT', /whole number >= 1, found 0/);
  });
});
