import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Rng } from '../../src/core/rng';
import { loadIdxDataset } from '../../src/data/idx';
import {
  COLOR_SETS,
  fromRange,
  gaussianNoise,
  maskingNoise,
  saltAndPepperNoise,
  tint,
  toRange,
} from '../../src/data/transforms';
import { VALUE_RANGES } from '../../src/data/types';
import { expectAekitError, FIXTURES } from './helpers';

const slice = () =>
  loadIdxDataset(
    path.join(FIXTURES, 'mnist-100', 'train-images-idx3-ubyte'),
    path.join(FIXTURES, 'mnist-100', 'train-labels-idx1-ubyte'),
    'mnist',
  );

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

describe('data/transforms', () => {
  describe('value ranges', () => {
    it('maps [0, 1] to [-1, 1] and back, into new arrays', () => {
      const input = Float32Array.from([0, 0.25, 0.5, 1]);
      const sym = toRange(input, 'symmetric');
      assert.deepEqual(Array.from(sym), [-1, -0.5, 0, 1]);
      assert.deepEqual(Array.from(fromRange(sym, 'symmetric')), [0, 0.25, 0.5, 1]);
      const unit = toRange(input, 'unit');
      assert.notEqual(unit, input);
      assert.deepEqual(unit, input);
      assert.deepEqual(Array.from(input), [0, 0.25, 0.5, 1]);
      assert.deepEqual(VALUE_RANGES.symmetric, [-1, 1]);
    });

    it('round-trips real images exactly enough', () => {
      const images = slice().images;
      const back = fromRange(toRange(images, 'symmetric'), 'symmetric');
      for (let i = 0; i < images.length; i++) assert.ok(Math.abs(back[i] - images[i]) < 1e-6);
    });

    it('rejects an unknown range', async () => {
      await expectAekitError(() => toRange(new Float32Array(1), 'pm1' as 'unit'), 'BAD_ARGUMENT', 'pm1', 'unit, symmetric');
    });
  });

  describe('tint', () => {
    it('colours each digit with one palette colour and records its index', () => {
      const ds = slice();
      const colors = [...COLOR_SETS.warm, ...COLOR_SETS.cool];
      const tinted = tint(ds, { colors, seed: 3 });
      assert.equal(tinted.name, 'colored-mnist');
      assert.deepEqual([tinted.count, tinted.height, tinted.width, tinted.channels], [100, 28, 28, 3]);
      assert.equal(tinted.images.length, 100 * 784 * 3);
      assert.deepEqual(tinted.labels, ds.labels);
      assert.deepEqual(new Set(tinted.colorIndex), new Set([0, 1, 2, 3, 4, 5]), 'all colours used on 100 images');
      for (const n of [0, 17, 99]) {
        const [r, g, b] = colors[tinted.colorIndex[n]];
        for (const p of [n * 784 + 300, n * 784 + 400, n * 784 + 500]) {
          const v = ds.images[p];
          assert.deepEqual(Array.from(tinted.images.subarray(3 * p, 3 * p + 3)), [Math.fround(v * r), Math.fround(v * g), Math.fround(v * b)]);
        }
      }
      assert.deepEqual(tint(ds, { colors, seed: 3 }).colorIndex, tinted.colorIndex, 'seeded');
      assert.notDeepEqual(tint(ds, { colors, seed: 4 }).colorIndex, tinted.colorIndex);
      assert.equal(tint(ds, { colors, seed: 3, name: 'x' }).name, 'x');
    });

    it('offers two disjoint colour sets', () => {
      const key = (c: readonly number[]) => c.join(',');
      const warm = new Set(COLOR_SETS.warm.map(key));
      assert.ok(COLOR_SETS.warm.length >= 2 && COLOR_SETS.cool.length >= 2);
      assert.ok(COLOR_SETS.cool.every((c) => !warm.has(key(c))));
    });

    it('rejects RGB input and bad colours', async () => {
      const rgb = tint(slice(), { colors: COLOR_SETS.warm, seed: 1 });
      await expectAekitError(() => tint(rgb, { colors: COLOR_SETS.warm, seed: 1 }), 'BAD_ARGUMENT', 'grayscale', '3 channels');
      await expectAekitError(() => tint(slice(), { colors: [], seed: 1 }), 'BAD_ARGUMENT', 'at least one');
      await expectAekitError(() => tint(slice(), { colors: [[255, 0, 0]], seed: 1 }), 'BAD_ARGUMENT', 'colour 0', '[0, 1]');
    });
  });

  describe('noise', () => {
    const N = 20000;

    it('gaussianNoise: mean 0, the given std, clipped, input untouched, seeded', () => {
      const input = new Float32Array(N).fill(0.5);
      const out = gaussianNoise(input, 0.1, new Rng(1));
      assert.ok(input.every((v) => v === 0.5));
      const diff = out.map((v, i) => v - input[i]);
      const m = mean(diff);
      const std = Math.sqrt(mean(diff.map((d) => (d - m) ** 2)));
      assert.ok(Math.abs(m) < 0.003, `mean ${m}`);
      assert.ok(Math.abs(std - 0.1) < 0.003, `std ${std}`);
      assert.deepEqual(gaussianNoise(input, 0.1, new Rng(1)), out);
      const wide = gaussianNoise(input, 2, new Rng(2));
      assert.ok(wide.every((v) => v >= 0 && v <= 1) && wide.some((v) => v === 0) && wide.some((v) => v === 1));
      const sym = gaussianNoise(new Float32Array(N), 2, new Rng(2), 'symmetric');
      assert.ok(sym.every((v) => v >= -1 && v <= 1) && sym.some((v) => v === -1));
    });

    it('maskingNoise: zeroes about the fraction, input untouched', () => {
      const input = new Float32Array(N).fill(0.8);
      const out = maskingNoise(input, 0.3, new Rng(5));
      assert.ok(input.every((v) => Math.abs(v - 0.8) < 1e-7));
      const zeroed = out.filter((v) => v === 0).length / N;
      assert.ok(Math.abs(zeroed - 0.3) < 0.015, `masked ${zeroed}`);
      assert.ok(out.every((v) => v === 0 || Math.abs(v - 0.8) < 1e-7));
      assert.ok(maskingNoise(input, 0.3, new Rng(5), 'symmetric').some((v) => v === -1));
      assert.deepEqual(maskingNoise(input, 0, new Rng(5)), input);
    });

    it('saltAndPepperNoise: about the fraction, half black half white, in the range', () => {
      const input = new Float32Array(N).fill(0);
      const out = saltAndPepperNoise(input, 0.2, new Rng(9), 'symmetric');
      assert.ok(input.every((v) => v === 0));
      const salt = out.filter((v) => v === 1).length / N;
      const pepper = out.filter((v) => v === -1).length / N;
      assert.ok(Math.abs(salt + pepper - 0.2) < 0.015, `changed ${salt + pepper}`);
      assert.ok(Math.abs(salt - pepper) < 0.015, `salt ${salt} pepper ${pepper}`);
      const unit = saltAndPepperNoise(new Float32Array(N).fill(0.5), 0.2, new Rng(9), 'unit');
      assert.ok(unit.every((v) => v === 0 || v === 1 || v === 0.5));
    });

    it('rejects bad noise parameters', async () => {
      await expectAekitError(() => gaussianNoise(new Float32Array(1), -1, new Rng(1)), 'BAD_ARGUMENT', 'std');
      await expectAekitError(() => maskingNoise(new Float32Array(1), 1.5, new Rng(1)), 'BAD_ARGUMENT', 'masking fraction');
      await expectAekitError(() => saltAndPepperNoise(new Float32Array(1), NaN, new Rng(1), 'unit'), 'BAD_ARGUMENT', 'fraction');
    });
  });
});
