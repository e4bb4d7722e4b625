import { checkInt } from './validate';

/**
 * Image resizing for the data loaders: area averaging when shrinking an axis (every source pixel
 * contributes in proportion to its overlap, so thin strokes such as Omniglot's survive a 105 -> 28
 * reduction instead of aliasing away) and bilinear interpolation when enlarging one (pixel
 * centres at half-integers, as in PIL and `align_corners=False`). The two axes are treated
 * independently; both filters are separable, so this equals resizing in 2-D.
 */

/** Source taps and weights of each output position along one axis. */
type Taps = { index: number; weight: number }[][];

function axisTaps(from: number, to: number): Taps {
  const taps: Taps = [];
  const scale = from / to;
  for (let o = 0; o < to; o++) {
    if (from === to) {
      taps.push([{ index: o, weight: 1 }]);
    } else if (to < from) {
      const lo = o * scale;
      const hi = (o + 1) * scale;
      const row: { index: number; weight: number }[] = [];
      for (let s = Math.floor(lo); s < Math.min(from, Math.ceil(hi)); s++) {
        const overlap = Math.min(hi, s + 1) - Math.max(lo, s);
        if (overlap > 0) row.push({ index: s, weight: overlap / scale });
      }
      taps.push(row);
    } else {
      const x = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), from - 1);
      const x0 = Math.floor(x);
      const x1 = Math.min(x0 + 1, from - 1);
      const f = x - x0;
      taps.push(f === 0 ? [{ index: x0, weight: 1 }] : [{ index: x0, weight: 1 - f }, { index: x1, weight: f }]);
    }
  }
  return taps;
}

/**
 * Resizes one HWC image to `toHeight` x `toWidth` (area averaging down, bilinear up; see the
 * module comment). Returns a new array; the input is left untouched.
 */
export function resizeImage(
  pixels: Float32Array,
  height: number,
  width: number,
  channels: number,
  toHeight: number,
  toWidth: number,
): Float32Array {
  for (const [value, what] of [
    [height, 'height'],
    [width, 'width'],
    [channels, 'channels'],
    [toHeight, 'target height'],
    [toWidth, 'target width'],
  ] as const) {
    checkInt(value, what, 1);
  }
  if (height === toHeight && width === toWidth) return pixels.slice();
  const xTaps = axisTaps(width, toWidth);
  const yTaps = axisTaps(height, toHeight);
  // Width first (height x toWidth), then height.
  const mid = new Float32Array(height * toWidth * channels);
  for (let y = 0; y < height; y++) {
    for (let ox = 0; ox < toWidth; ox++) {
      const out = (y * toWidth + ox) * channels;
      for (const { index, weight } of xTaps[ox]) {
        const src = (y * width + index) * channels;
        for (let c = 0; c < channels; c++) mid[out + c] += pixels[src + c] * weight;
      }
    }
  }
  const result = new Float32Array(toHeight * toWidth * channels);
  for (let oy = 0; oy < toHeight; oy++) {
    for (const { index, weight } of yTaps[oy]) {
      const src = index * toWidth * channels;
      const out = oy * toWidth * channels;
      for (let i = 0; i < toWidth * channels; i++) result[out + i] += mid[src + i] * weight;
    }
  }
  return result;
}
