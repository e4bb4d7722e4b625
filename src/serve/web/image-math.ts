/**
 * Pixel mapping shared by the server and the browser module, so both sides turn model values into
 * the same bytes. Pure code: esbuild bundles this file into `dist/web/aekit-web.js`.
 */
import { VALUE_RANGES } from '../../data/types';
import type { ValueRange } from '../../data/types';

/** Map a model value in `range` to [0, 1], clamped (what a PNG or a canvas can show). */
export function toUnitInterval(value: number, range: ValueRange): number {
  const [lo, hi] = VALUE_RANGES[range];
  const unit = (value - lo) / (hi - lo);
  return unit < 0 ? 0 : unit > 1 ? 1 : unit;
}

/** Map a model value in `range` to an 8-bit pixel: round(unit * 255), as PNGs and canvases store it. */
export function toPixelByte(value: number, range: ValueRange): number {
  return Math.round(toUnitInterval(value, range) * 255);
}

/** Map a [0, 1] value (a canvas pixel over 255) into `range`: the inverse of {@link toUnitInterval} inside the range. */
export function fromUnitInterval(unit: number, range: ValueRange): number {
  const [lo, hi] = VALUE_RANGES[range];
  return lo + unit * (hi - lo);
}
