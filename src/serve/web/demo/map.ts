/**
 * The 2-D latent map of a model whose Gaussian part has two dimensions: the classic manifold
 * figure (Kingma & Welling 2014, fig. 4), decoded images on a grid of N(0, 1) quantiles, clickable
 * and keyboard-driven, with a frame on the current code.
 */
import { drawImages } from '../draw';
import type { ImageBatch } from '../tensors';

/** Cells per side of the map. */
export const MAP_CELLS = 15;
/** The quantile range of the grid: linspace(0.05, 0.95) through the normal's inverse CDF, as the VAE paper's figure and the Keras example do. */
const QUANTILES: readonly [number, number] = [0.05, 0.95];

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** The grid's values along one axis, ascending. */
export function mapAxis(cells = MAP_CELLS): number[] {
  const [lo, hi] = QUANTILES;
  return Array.from({ length: cells }, (_, i) => normalQuantile(lo + ((hi - lo) * i) / (cells - 1)));
}

/**
 * The codes of every cell, row-major from the top-left: columns go along z0 (ascending), rows
 * along z1 (descending, so up is +z1 as in a plot). Other dimensions are copied from `base`.
 */
export function mapCodes(axis: readonly number[], base: Float32Array): Float32Array {
  const n = axis.length;
  const size = base.length;
  const out = new Float32Array(n * n * size);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      const at = (row * n + col) * size;
      out.set(base, at);
      out[at] = axis[col];
      out[at + 1] = axis[n - 1 - row];
    }
  }
  return out;
}

/** The cell nearest to (z0, z1). */
function nearestCell(axis: readonly number[], z0: number, z1: number): { row: number; col: number } {
  const nearest = (v: number) => axis.reduce((best, a, i) => (Math.abs(a - v) < Math.abs(axis[best] - v) ? i : best), 0);
  return { col: nearest(z0), row: axis.length - 1 - nearest(z1) };
}

/** A map wired into the page. */
export interface LatentMap {
  readonly axis: readonly number[];
  /** Decode and draw the grid around `base` (its other dimensions and the class stay fixed). */
  render(base: Float32Array, decode: (codes: Float32Array) => Promise<ImageBatch>): Promise<ImageBatch>;
  /** Move the frame to the cell nearest the code. */
  mark(z: ArrayLike<number>): void;
}

/** Wire the map canvas: a click or an arrow key calls `select(z0, z1)` with the cell's values. */
export function wireMap(canvas: HTMLCanvasElement, marker: HTMLElement, select: (z0: number, z1: number) => void): LatentMap {
  const axis = mapAxis();
  const n = axis.length;
  let cell = { row: (n - 1) / 2, col: (n - 1) / 2 };
  const pick = (row: number, col: number) => {
    cell = { row: Math.min(n - 1, Math.max(0, row)), col: Math.min(n - 1, Math.max(0, col)) };
    select(axis[cell.col], axis[n - 1 - cell.row]);
  };
  canvas.addEventListener('click', (e) => {
    const rect = canvas.getBoundingClientRect();
    pick(Math.floor(((e.clientY - rect.top) / rect.height) * n), Math.floor(((e.clientX - rect.left) / rect.width) * n));
  });
  const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  canvas.addEventListener('keydown', (e) => {
    const move = moves[e.key];
    if (!move) return;
    e.preventDefault();
    pick(Math.round(cell.row) + move[0], Math.round(cell.col) + move[1]);
  });
  return {
    axis,
    async render(base, decode) {
      const images = await decode(mapCodes(axis, base));
      drawImages(canvas, images, { columns: n, padding: 0 });
      return images;
    },
    mark(z) {
      cell = nearestCell(axis, z[0], z[1]);
      const size = 100 / n;
      Object.assign(marker.style, { left: `${cell.col * size}%`, top: `${cell.row * size}%`, width: `${size}%`, height: `${size}%` });
    },
  };
}
