/**
 * The 2-D latent scatter of the VAE study: one dot per image at its code, coloured by class. Codes
 * of more than two dimensions are projected on their first two principal components (ml-pca).
 */
import { PCA } from 'ml-pca';
import { AekitError } from '../../core/errors';
import { canvasToPng, chartCanvas, drawCaptions, drawGrid, niceTicks } from '../../core/plot';

/**
 * Class colours: matplotlib's tab10 then the light half of tab20, so the usual 10-digit plot
 * looks like the report's; more classes reuse them.
 */
export const SCATTER_PALETTE: readonly string[] = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
  '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#c7c7c7', '#dbdb8d', '#9edae5',
];

/** A legend lists at most this many classes (one per palette colour); beyond, colours repeat and it is left out. */
export const SCATTER_LEGEND_MAX = SCATTER_PALETTE.length;

/** Points in 2-D with what the axes are. */
export interface Projection {
  /** count x 2, row-major. */
  points: Float32Array;
  count: number;
  /** 'identity' for 2-D codes, 'pca' otherwise (1-D codes get a zero second axis). */
  method: 'identity' | 'pca';
  /** Share of the codes' variance each axis explains (PCA only). */
  explained?: [number, number];
}

/** Project codes (count x size) to 2-D: as they are when size is 2, else their first two principal components. */
export function projectTo2d(codes: Float32Array, count: number, size: number): Projection {
  if (codes.length !== count * size) throw new AekitError('BAD_ARGUMENT', `${codes.length} values are not ${count} codes of size ${size}`);
  if (size === 2) return { points: Float32Array.from(codes), count, method: 'identity' };
  if (count < 3) throw new AekitError('BAD_ARGUMENT', `a PCA projection needs at least 3 codes, got ${count}`);
  const rows = Array.from({ length: count }, (_, i) => Array.from(codes.subarray(i * size, (i + 1) * size)));
  const pca = new PCA(rows, { center: true });
  const components = Math.min(2, size);
  const projected = pca.predict(rows, { nComponents: components });
  const points = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) for (let k = 0; k < components; k++) points[i * 2 + k] = projected.get(i, k);
  const variance = pca.getExplainedVariance();
  return { points, count, method: 'pca', explained: [variance[0] ?? 1, variance[1] ?? 0] };
}

/** Options of {@link scatterPng}. */
export interface ScatterOptions {
  title: string;
  /** Class index per point (-1: unlabelled, drawn grey). */
  labels?: ArrayLike<number>;
  classNames?: readonly string[];
  width?: number;
  height?: number;
  /** Dot radius in pixels (default 2.5). */
  radius?: number;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** Draw a projection as a scatter plot PNG with one colour per class and a legend. */
export function scatterPng(projection: Projection, options: ScatterOptions): Buffer {
  const width = options.width ?? 640;
  const height = options.height ?? 560;
  const { canvas, g } = chartCanvas(width, height);
  const margin = { left: 64, right: 120, top: 36, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const { points, count } = projection;
  let [xMin, xMax, yMin, yMax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < count; i++) {
    const [x, y] = [points[i * 2], points[i * 2 + 1]];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    [xMin, xMax, yMin, yMax] = [Math.min(xMin, x), Math.max(xMax, x), Math.min(yMin, y), Math.max(yMax, y)];
  }
  if (!(xMax > xMin)) [xMin, xMax] = [(Number.isFinite(xMin) ? xMin : 0) - 1, (Number.isFinite(xMax) ? xMax : 0) + 1];
  if (!(yMax > yMin)) [yMin, yMax] = [(Number.isFinite(yMin) ? yMin : 0) - 1, (Number.isFinite(yMax) ? yMax : 0) + 1];
  const px = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => margin.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;

  const label = (t: number) => String(Number(t.toPrecision(4)));
  drawGrid(
    g,
    { left: margin.left, top: margin.top, width: plotW, height: plotH },
    niceTicks(yMin, yMax).map((t) => ({ at: py(t), label: label(t) })),
    niceTicks(xMin, xMax, 6).map((t) => ({ at: px(t), label: label(t) })),
  );
  g.strokeStyle = '#333333';
  g.strokeRect(margin.left, margin.top, plotW, plotH);

  const colour = (label: number) => (label < 0 ? '#999999' : SCATTER_PALETTE[label % SCATTER_PALETTE.length]);
  const radius = options.radius ?? 2.5;
  for (let i = 0; i < count; i++) {
    const [x, y] = [points[i * 2], points[i * 2 + 1]];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    g.fillStyle = colour(options.labels ? options.labels[i] : -1);
    g.beginPath();
    g.arc(px(x), py(y), radius, 0, 2 * Math.PI);
    g.fill();
  }

  const used = options.labels ? [...new Set(Array.from(options.labels).filter((l) => l >= 0))].sort((a, b) => a - b) : [];
  if (used.length > 0 && used.length <= SCATTER_LEGEND_MAX) {
    g.textAlign = 'left';
    g.textBaseline = 'middle';
    used.forEach((label, k) => {
      const y = margin.top + 8 + k * 18;
      const x = margin.left + plotW + 14;
      g.fillStyle = colour(label);
      g.beginPath();
      g.arc(x + 5, y, 5, 0, 2 * Math.PI);
      g.fill();
      g.fillStyle = '#333333';
      const name = options.classNames?.[label] ?? String(label);
      g.fillText(name.length > 14 ? `${name.slice(0, 13)}…` : name, x + 16, y);
    });
  }

  const axis = (k: 0 | 1) => (projection.method === 'pca' ? `PC${k + 1} (${percent(projection.explained![k])} of variance)` : `z${k + 1}`);
  drawCaptions(g, width, height, { left: margin.left, top: margin.top, width: plotW, height: plotH }, { title: options.title, xLabel: axis(0), yLabel: axis(1) });
  return canvasToPng(canvas);
}
