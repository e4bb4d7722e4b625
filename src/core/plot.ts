/**
 * Line charts as PNG (loss curves, metric curves), drawn with pureimage (a pure-JS Canvas 2D
 * implementation) and the DejaVu Sans font shipped in the `dejavu-fonts-ttf` npm package, so text
 * renders the same on every machine with no native module and no system fonts. Chart layout is
 * written here because the charting libraries need a DOM or node-canvas's native build (which
 * downloads binaries at install); a loss curve needs only axes, ticks and a legend.
 */
import * as PImage from 'pureimage';
import { PNG } from 'pngjs';

/** Font family name registered for charts. */
export const CHART_FONT = 'DejaVu Sans';

let fontLoaded = false;

/** A blank white canvas with the chart font loaded; encode it with {@link canvasToPng}. */
export function chartCanvas(width: number, height: number): { canvas: PImage.Bitmap; g: PImage.Context } {
  if (!fontLoaded) {
    PImage.registerFont(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'), CHART_FONT).loadSync();
    PImage.registerFont(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'), `${CHART_FONT} Bold`).loadSync();
    fontLoaded = true;
  }
  const canvas = PImage.make(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, width, height);
  return { canvas, g };
}

/** Encode a pureimage canvas as PNG bytes (synchronously, through pngjs). */
export function canvasToPng(canvas: PImage.Bitmap): Buffer {
  const png = new PNG({ width: canvas.width, height: canvas.height });
  Buffer.from(canvas.data.buffer, canvas.data.byteOffset, canvas.data.byteLength).copy(png.data);
  return PNG.sync.write(png);
}

/** A tick of a chart axis: where it is (pixels along the axis) and its label. */
export interface Tick {
  at: number;
  label: string;
}

/** The plot area of a chart, in pixels. */
export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Light grid lines across `area` with their labels: one horizontal line per `yTicks` entry,
 * labelled at the left, and one vertical line per `xTicks` entry, labelled below. Shared by the
 * line, bar and scatter charts so that they all look alike.
 */
export function drawGrid(g: PImage.Context, area: PlotArea, yTicks: readonly Tick[], xTicks: readonly Tick[] = []): void {
  g.font = `12px '${CHART_FONT}'`;
  g.strokeStyle = '#dddddd';
  g.fillStyle = '#333333';
  g.lineWidth = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const { at, label } of yTicks) {
    g.beginPath();
    g.moveTo(area.left, at);
    g.lineTo(area.left + area.width, at);
    g.stroke();
    g.fillText(label, area.left - 6, at);
  }
  if (xTicks.length === 0) return;
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (const { at, label } of xTicks) {
    g.beginPath();
    g.moveTo(at, area.top);
    g.lineTo(at, area.top + area.height);
    g.stroke();
    g.fillText(label, at, area.top + area.height + 6);
  }
}

/**
 * The chart's title centred at the top, `xLabel` (when given) centred under `area`, and `yLabel`
 * turned on its side left of it: the captions every chart here carries.
 */
export function drawCaptions(g: PImage.Context, width: number, height: number, area: PlotArea, captions: { title: string; xLabel?: string; yLabel: string }): void {
  g.fillStyle = '#111111';
  g.font = `14px '${CHART_FONT} Bold'`;
  g.textAlign = 'center';
  g.textBaseline = 'top';
  g.fillText(captions.title, width / 2, 10);
  g.font = `12px '${CHART_FONT}'`;
  if (captions.xLabel !== undefined) g.fillText(captions.xLabel, area.left + area.width / 2, height - 18);
  g.save();
  g.translate(14, area.top + area.height / 2);
  g.rotate(-Math.PI / 2);
  g.fillText(captions.yLabel, 0, 0);
  g.restore();
}

/** One line of a chart. */
export interface Series {
  name: string;
  points: readonly [number, number][];
  /** Draw points as dots as well (for sparse series such as per-epoch validation). */
  markers?: boolean;
}

/** Chart settings. */
export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
  /** Logarithmic y axis (only positive values are drawn). */
  logY?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Pick ~`count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

/** Render a line chart to PNG bytes. */
export function lineChartPng(options: LineChartOptions): Buffer {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const { canvas, g } = chartCanvas(width, height);
  const margin = { left: 72, right: 16, top: 36, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  const ty = (v: number) => (options.logY ? Math.log10(v) : v);
  const all = options.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.logY || y > 0));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => ty(p[1]));
  let [xMin, xMax] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [yMin, yMax] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (xMax === xMin) [xMin, xMax] = [xMin - 1, xMax + 1];
  if (yMax === yMin) [yMin, yMax] = [yMin - 1, yMax + 1];
  const pad = (yMax - yMin) * 0.05;
  yMin -= pad;
  yMax += pad;
  const px = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => margin.top + (1 - (ty(y) - yMin) / (yMax - yMin)) * plotH;

  drawGrid(
    g,
    { left: margin.left, top: margin.top, width: plotW, height: plotH },
    niceTicks(yMin, yMax).map((t) => ({ at: margin.top + (1 - (t - yMin) / (yMax - yMin)) * plotH, label: options.logY ? formatTick(10 ** t) : formatTick(t) })),
    niceTicks(xMin, xMax, 6).map((t) => ({ at: px(t), label: formatTick(t) })),
  );
  g.strokeStyle = '#333333';
  g.strokeRect(margin.left, margin.top, plotW, plotH);

  g.font = `12px '${CHART_FONT}'`;
  const legendWidth = Math.max(0, ...options.series.map((s) => g.measureText(s.name).width)) + 34;
  options.series.forEach((series, i) => {
    const color = PALETTE[i % PALETTE.length];
    const points = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.logY || y > 0));
    g.strokeStyle = color;
    g.fillStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    points.forEach(([x, y], j) => (j === 0 ? g.moveTo(px(x), py(y)) : g.lineTo(px(x), py(y))));
    g.stroke();
    if (series.markers || points.length === 1) {
      for (const [x, y] of points) {
        g.beginPath();
        g.arc(px(x), py(y), 3, 0, 2 * Math.PI);
        g.fill();
      }
    }
    // Legend, top right inside the plot.
    const ly = margin.top + 10 + i * 16;
    const lx = margin.left + plotW - legendWidth;
    g.fillRect(lx, ly - 1, 18, 3);
    g.fillStyle = '#333333';
    g.textAlign = 'left';
    g.textBaseline = 'middle';
    g.fillText(series.name, lx + 24, ly);
  });

  drawCaptions(g, width, height, { left: margin.left, top: margin.top, width: plotW, height: plotH }, options);
  return canvasToPng(canvas);
}

/** One colour of bars in a grouped bar chart: a value per category (null = no bar). */
export interface BarSeries {
  name: string;
  values: readonly (number | null)[];
}

/** Grouped bar chart settings. */
export interface BarChartOptions {
  title: string;
  yLabel: string;
  /** Groups along the x axis. */
  categories: readonly string[];
  /** Bars within each group, one colour each (legend entries). */
  series: readonly BarSeries[];
  /** Logarithmic y axis, for values spanning orders of magnitude (only positive values are drawn). */
  logY?: boolean;
  /** Default: wide enough for every category label. */
  width?: number;
  height?: number;
}

/** A short label for a bar's value: 3 significant digits, k/M suffixes. */
function compactNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** Render a grouped bar chart (e.g. throughput per runtime and batch size) to PNG bytes. */
export function barChartPng(options: BarChartOptions): Buffer {
  const groupWidth = 120;
  const margin = { left: 72, right: 16, top: 56, bottom: 56 };
  const width = options.width ?? Math.max(720, margin.left + margin.right + options.categories.length * groupWidth);
  const height = options.height ?? 420;
  const { canvas, g } = chartCanvas(width, height);
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  const usable = (v: number | null): v is number => v !== null && Number.isFinite(v) && (!options.logY || v > 0);
  const values = options.series.flatMap((s) => s.values.filter(usable));
  const ty = (v: number) => (options.logY ? Math.log10(v) : v);
  let yMin = options.logY ? (values.length ? Math.floor(Math.log10(Math.min(...values))) : 0) : Math.min(0, ...values);
  let yMax = values.length ? ty(Math.max(...values)) : 1;
  if (options.logY) yMax = Math.ceil(yMax + 1e-9);
  if (yMax <= yMin) yMax = yMin + 1;
  if (!options.logY) yMax += (yMax - yMin) * 0.08;
  const py = (v: number) => margin.top + (1 - (ty(v) - yMin) / (yMax - yMin)) * plotH;

  const ticks = options.logY ? Array.from({ length: yMax - yMin + 1 }, (_, i) => yMin + i) : niceTicks(yMin, yMax);
  drawGrid(
    g,
    { left: margin.left, top: margin.top, width: plotW, height: plotH },
    ticks.map((t) => ({ at: margin.top + (1 - (t - yMin) / (yMax - yMin)) * plotH, label: options.logY ? formatTick(10 ** t) : formatTick(t) })),
  );

  const slot = plotW / Math.max(1, options.categories.length);
  const barWidth = Math.max(2, (slot * 0.8) / Math.max(1, options.series.length));
  options.categories.forEach((category, c) => {
    const x0 = margin.left + c * slot + slot * 0.1;
    options.series.forEach((series, s) => {
      const v = series.values[c];
      const x = x0 + s * barWidth;
      if (!usable(v)) {
        g.fillStyle = '#999999';
        g.font = `10px '${CHART_FONT}'`;
        g.textAlign = 'center';
        g.textBaseline = 'bottom';
        g.fillText('-', x + barWidth / 2, margin.top + plotH - 2);
        return;
      }
      const top = py(v);
      const base = options.logY ? margin.top + plotH : py(Math.max(yMin, 0));
      g.fillStyle = PALETTE[s % PALETTE.length];
      g.fillRect(x + 1, Math.min(top, base), barWidth - 2, Math.max(1, Math.abs(base - top)));
      g.fillStyle = '#333333';
      g.font = `10px '${CHART_FONT}'`;
      g.textAlign = 'center';
      g.textBaseline = 'bottom';
      g.fillText(compactNumber(v), x + barWidth / 2, Math.min(top, base) - 2);
    });
    g.fillStyle = '#333333';
    g.font = `12px '${CHART_FONT}'`;
    g.textAlign = 'center';
    g.textBaseline = 'top';
    g.fillText(category, margin.left + c * slot + slot / 2, margin.top + plotH + 8);
  });
  g.strokeStyle = '#333333';
  g.strokeRect(margin.left, margin.top, plotW, plotH);

  // Legend: one row under the title.
  g.font = `12px '${CHART_FONT}'`;
  g.textAlign = 'left';
  g.textBaseline = 'middle';
  const entries = options.series.map((s) => ({ name: s.name, w: g.measureText(s.name).width + 34 }));
  let lx = margin.left + (plotW - entries.reduce((a, e) => a + e.w, 0)) / 2;
  entries.forEach((entry, i) => {
    g.fillStyle = PALETTE[i % PALETTE.length];
    g.fillRect(lx, 34, 14, 10);
    g.fillStyle = '#333333';
    g.fillText(entry.name, lx + 18, 39);
    lx += entry.w;
  });

  drawCaptions(g, width, height, { left: margin.left, top: margin.top, width: plotW, height: plotH }, { title: options.title, yLabel: options.yLabel });
  return canvasToPng(canvas);
}
