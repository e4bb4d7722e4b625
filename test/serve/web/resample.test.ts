/**
 * A picture -> a model input (src/serve/web/resample.ts), in Node on synthetic pictures: area
 * averaging, grey and RGB, alpha, value ranges, inversion, the object-fit fits and MNIST's digit
 * framing (20x20 box, centre of mass in the middle of 28x28).
 */
import { strict as assert } from 'node:assert';
import { DIGIT_BOX, toModelInput } from '../../../src/serve/web/resample';
import type { RgbaImage } from '../../../src/serve/web/resample';

const GREY = { channels: 1, height: 28, width: 28 };

/** A picture of `width` x `height` filled with `background`, with rectangles painted `ink` (RGBA). */
function picture(width: number, height: number, rects: [number, number, number, number][], ink = [255, 255, 255, 255], background = [0, 0, 0, 255]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set(background, p * 4);
  for (const [x0, y0, w, h] of rects) {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data.set(ink, (y * width + x) * 4);
  }
  return { data, width, height };
}

/** Bounding box and centre of mass of the values above 0.1 in a 28x28 plane. */
function inkStats(plane: Float32Array): { width: number; height: number; cx: number; cy: number } {
  let [x0, y0, x1, y1, mass, mx, my] = [28, 28, -1, -1, 0, 0, 0];
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = plane[y * 28 + x];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
      if (v > 0.1) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  return { width: x1 - x0 + 1, height: y1 - y0 + 1, cx: mx / mass, cy: my / mass };
}

describe('serve/web: pictures to model inputs', () => {
  it('averages whole blocks when the pad is a multiple of the image (stretch)', () => {
    // 280 px -> 28 px: each model pixel is a 10x10 block; a block half inked is 0.5.
    const { batch, inverted } = toModelInput(picture(280, 280, [[0, 0, 10, 10], [25, 0, 5, 10]]), GREY, 'unit', { fit: 'stretch', invert: false });
    assert.equal(inverted, false);
    assert.deepEqual(batch.shape, [1, 1, 28, 28]);
    assert.equal(batch.data[0], 1);
    assert.ok(Math.abs(batch.data[2] - 0.5) < 1e-6, `half a block inked: ${batch.data[2]}`);
    assert.equal(batch.data.reduce((s, v) => s + v, 0), 1.5);
  });

  it('turns colours into luma for grey models, composites alpha over black, keeps RGB for colour models', () => {
    const red = picture(28, 28, [], undefined, [255, 0, 0, 255]);
    assert.ok(Math.abs(toModelInput(red, GREY, 'unit', { fit: 'stretch', invert: false }).batch.data[0] - 0.299) < 1e-6);
    const clear = picture(28, 28, [], undefined, [255, 255, 255, 0]);
    assert.equal(toModelInput(clear, GREY, 'unit', { fit: 'stretch', invert: false }).batch.data[0], 0);
    const rgb = toModelInput(picture(28, 28, [], undefined, [255, 128, 0, 255]), { channels: 3, height: 28, width: 28 }, 'unit', { fit: 'stretch' });
    assert.deepEqual([rgb.batch.data[0], rgb.batch.data[784], rgb.batch.data[2 * 784]].map((v) => v.toFixed(4)), ['1.0000', (128 / 255).toFixed(4), '0.0000']);
    assert.equal(rgb.inverted, false, "'auto' never inverts colour pictures");
  });

  it("maps into the model's value range", () => {
    const { batch } = toModelInput(picture(28, 28, [[0, 0, 1, 1]]), GREY, 'symmetric', { fit: 'stretch', invert: false });
    assert.equal(batch.data[0], 1);
    assert.equal(batch.data[1], -1);
    assert.equal(batch.valueRange, 'symmetric');
  });

  it("inverts a dark digit on light paper ('auto'), and leaves light-on-dark alone", () => {
    const paper = picture(100, 100, [[40, 20, 20, 60]], [20, 20, 20, 255], [240, 240, 240, 255]);
    const auto = toModelInput(paper, GREY, 'unit', { fit: 'stretch' });
    assert.equal(auto.inverted, true);
    assert.ok(auto.batch.data[0] < 0.1, 'the paper becomes the dark background');
    assert.ok(Math.max(...auto.batch.data) > 0.85, 'the ink becomes light');
    assert.equal(toModelInput(picture(100, 100, [[40, 20, 20, 60]]), GREY, 'unit', { fit: 'stretch' }).inverted, false);
  });

  it('frames a drawing as MNIST did: the ink scaled into a 20x20 box, its centre of mass in the middle', () => {
    // A tall stroke off in a corner of a 280 px pad.
    const { batch } = toModelInput(picture(280, 280, [[10, 150, 30, 120], [30, 150, 40, 20]]), GREY, 'unit', { fit: 'digit', invert: false });
    const stats = inkStats(batch.data);
    assert.equal(Math.max(stats.width, stats.height), Math.round(DIGIT_BOX * 28));
    assert.ok(Math.abs(stats.cx - 14) <= 0.5 && Math.abs(stats.cy - 14) <= 0.5, `centre of mass at (${stats.cx}, ${stats.cy})`);
    // A blank pad stays blank.
    assert.equal(toModelInput(picture(280, 280, []), GREY, 'unit', { fit: 'digit' }).batch.data.every((v) => v === 0), true);
  });

  it('fits pictures of another aspect as CSS object-fit does (contain letterboxes, cover crops)', () => {
    const wide = picture(200, 100, [[0, 0, 200, 100]]);
    const contain = toModelInput(wide, GREY, 'unit', { fit: 'contain', invert: false }).batch.data;
    const rows = Array.from({ length: 28 }, (_, y) => contain[y * 28 + 14]);
    assert.equal(rows.filter((v) => v === 1).length, 14, 'a 2:1 picture fills half the height');
    assert.equal(rows[0], 0);
    const cover = toModelInput(wide, GREY, 'unit', { fit: 'cover', invert: false }).batch.data;
    assert.ok(cover.every((v) => v === 1), 'cover fills the frame');
  });

  it('says what it expected for a model it cannot feed and for a short picture', () => {
    assert.throws(() => toModelInput(picture(4, 4, []), { channels: 2, height: 4, width: 4 }, 'unit'), /pictures become 1 \(grey\) or 3 \(RGB\) channels, but the model takes 2/);
    assert.throws(() => toModelInput({ data: new Uint8ClampedArray(10), width: 4, height: 4 }, GREY, 'unit'), /the picture is 4x4 with 10 bytes, expected width\*height\*4 RGBA bytes/);
  });
});
