/**
 * An {@link EvalReport} as files and text: `report.json` (every figure, no images), `report.md`
 * (tables), PNG figures (sample grid, originals over reconstructions, 2-D latent scatter coloured
 * by class, interpolation strip, translations of both domains), and the compact table the CLI prints.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import { imageGridPng } from '../core/image-io';
import type { EvalFigures, EvalReport } from './report-types';
import { scatterPng } from './latent/scatter';

/** File names inside a report folder. */
export const REPORT_FILES = Object.freeze({
  json: 'report.json',
  markdown: 'report.md',
  samples: 'samples.png',
  reconstructions: 'reconstructions.png',
  latentScatter: 'latent-scatter.png',
  interpolation: 'interpolation.png',
  translations: 'translations.png',
});

/** Images per row of the sample and reconstruction grids. */
const GRID_COLUMNS = 8;

/** The report as plain JSON (the figures' pixel data left out). */
export function reportJson(report: EvalReport): Omit<EvalReport, 'figures'> {
  const { figures: _figures, ...rest } = report;
  return rest;
}

function num(value: number | undefined, digits = 2): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return String(value);
  return value.toFixed(digits);
}

/** FID with enough digits to tell small values apart (real-vs-real FIDs are often below 1). */
function fidText(value: number | undefined): string {
  return value !== undefined && Math.abs(value) < 1 ? value.toFixed(4) : num(value);
}

/** KID as mean ± std over subsets; one subset (n up to the subset size) has no spread to show. */
function kidText(value: { mean: number; std: number }, subsets: number): string {
  const size = Math.abs(value.mean);
  const digits = size < 0.1 ? 5 : size < 10 ? 4 : 2;
  return subsets === 1 ? value.mean.toFixed(digits) : `${value.mean.toFixed(digits)} ± ${value.std.toFixed(digits)}`;
}

function pct(value: number): string {
  return `${(100 * value).toFixed(1)}%`;
}

/** Rows (metric, value, note) of the headline figures. */
export function summaryRows(report: EvalReport): [string, string, string][] {
  const rows: [string, string, string][] = [];
  const { fid, kid, ssim, psnr, elbo } = report;
  if (fid) {
    const n = `n = ${fid.count} per side`;
    if (fid.samples !== undefined) rows.push(['FID samples vs test', fidText(fid.samples), `${n}, prior ${fid.prior}`]);
    else rows.push(['FID samples vs test', '-', fid.samplesSkipped ?? '']);
    if (fid.reconstructions !== undefined) rows.push(['FID reconstructions vs test', fidText(fid.reconstructions), n]);
    rows.push(['FID train vs test (real data)', fidText(fid.trainVsTest), `${n}; baseline for scale`]);
  }
  if (kid) {
    const n = `n = ${kid.count} per side, ${kid.subsets === 1 ? `one subset of all ${kid.subsetSize}` : `${kid.subsets} subsets of ${kid.subsetSize}`}`;
    if (kid.samples) rows.push(['KID samples vs test', kidText(kid.samples, kid.subsets), n]);
    if (kid.reconstructions) rows.push(['KID reconstructions vs test', kidText(kid.reconstructions, kid.subsets), n]);
    rows.push(['KID train vs test (real data)', kidText(kid.trainVsTest, kid.subsets), `${n}; baseline for scale`]);
  }
  const t = report.translation;
  if (t) {
    for (const [label, cycle, domain] of [['A -> B -> A', t.cycleA, report.dataset.spec], ['B -> A -> B', t.cycleB, t.domainB]] as const) {
      const note = `mean of ${cycle.count}, ${datasetName(domain)}`;
      rows.push([`SSIM (cycle ${label})`, num(cycle.ssim, 4), note], [`PSNR (cycle ${label})`, `${num(cycle.psnr)} dB`, note]);
    }
  }
  if (report.accuracy) rows.push(['test accuracy (top-1)', pct(report.accuracy.mean), `${report.accuracy.count} images`]);
  if (ssim) rows.push(['SSIM (reconstructions)', num(ssim.mean, 4), `mean of ${ssim.count}`]);
  if (psnr) rows.push(['PSNR (reconstructions)', `${num(psnr.mean)} dB`, `mean of ${psnr.count}`]);
  if (elbo) {
    rows.push(['ELBO', num(elbo.elbo), `nats/image, ${elbo.count} images`]);
    rows.push(['  reconstruction term', num(elbo.reconstruction), elbo.likelihood]);
    rows.push(['  KL term', num(elbo.kl), 'KL(q(z|x) || N(0, I))']);
    rows.push([`IWAE bound (K = ${elbo.samples})`, num(elbo.iwae), 'log p(x) estimate, nats/image']);
  }
  return rows;
}

/** A dataset as the reports name it: its name, a folder's path, coloured MNIST's palette. */
function datasetName(spec: EvalReport['dataset']['spec']): string {
  if (spec.name === 'folder') return spec.path;
  if (spec.name === 'colored-mnist' && spec.colors) return `colored-mnist (${spec.colors})`;
  return spec.name;
}

function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function latentRows(report: EvalReport): string[][] {
  return (report.latent?.classifiers ?? []).map((c) => [c.classifier, pct(c.codes), pct(c.pixels)]);
}

/** The compact table the CLI prints (plain text, aligned columns). */
export function formatReportTable(report: EvalReport): string {
  const rows = summaryRows(report);
  const parts = [`${report.target.family} (${report.target.runId}) on ${datasetName(report.dataset.spec)}`];
  if (rows.length > 0) parts.push(textTable(['metric', 'value', 'note'], rows));
  if (report.fid?.smallSample) parts.push(`warning: ${report.fid.smallSample}`);
  if (report.latent) {
    const l = report.latent;
    parts.push(
      `latent classifiers (train ${l.trainCount}, test ${l.testCount}; code ${l.codeSize}-d vs pixels ${l.pixelSize}-d; majority class ${pct(l.chance)}; encoder's label input: ${l.encoderLabel}):\n` +
        textTable(['classifier', 'codes', 'pixels'], latentRows(report)),
    );
  }
  if (report.skipped.length > 0) parts.push(report.skipped.map((s) => `skipped ${s.metric}: ${s.reason}`).join('\n'));
  return parts.join('\n\n');
}

/** The report as Markdown (what `report.md` holds). */
export function reportMarkdown(report: EvalReport, images: readonly string[] = []): string {
  const out = [
    `# Evaluation of ${report.target.family} (${report.target.runId})`,
    '',
    `Source: \`${report.target.source}\`; dataset: ${datasetName(report.dataset.spec)} (${report.dataset.height}x${report.dataset.width}x${report.dataset.channels}; ${report.dataset.trainCount} training and ${report.dataset.testCount} test images, split seed ${report.dataset.seed})${report.translation ? `, domain B: ${datasetName(report.translation.domainB)}` : ''}; seed ${report.seed}; ${report.createdAt}.`,
    '',
    markdownTable(['metric', 'value', 'note'], summaryRows(report)),
  ];
  const features = report.fid?.classifier ?? report.kid?.network;
  if (features) {
    const net = features;
    const p = net.preprocess;
    const size = p.size ? `${p.size.height}x${p.size.width}` : 'their own size';
    const preprocess = `images ${p.resize === 'bilinear' ? `resized to ${size} (bilinear, align_corners=False)` : p.resize === 'graph' ? 'fed at their own size (the graph resizes)' : `fed at ${size}`}, in range ${p.range}${p.grayToRgb ? ', gray replicated to RGB' : ''}, output \`${p.output}\` (${net.declared ? 'declared by the file' : 'given by flags'})`;
    out.push('', `FID/KID features: \`${net.path}\` (${net.featureSize}-d, sha256 ${net.sha256.slice(0, 12)}); ${preprocess}${report.fid ? `; test statistics ${report.fid.reference.cached ? 'read from' : 'cached in'} \`${report.fid.reference.cacheFile}\`` : ''}.`);
    if (report.fid?.smallSample) out.push('', `> **Warning:** ${report.fid.smallSample}`);
  }
  if (report.latent) {
    const l = report.latent;
    out.push('', '## Latent classifiers', '', `Trained on ${l.trainCount} training images, scored on ${l.testCount} test images; codes have ${l.codeSize} dimensions, pixels ${l.pixelSize}. Majority-class accuracy: ${pct(l.chance)}. The encoder's label input: ${l.encoderLabel}.`, '');
    out.push(markdownTable(['classifier', 'codes', 'pixels'], latentRows(report)));
  }
  if (report.skipped.length > 0) out.push('', '## Skipped', '', ...report.skipped.map((s) => `- ${s.metric}: ${s.reason}`));
  if (images.length > 0) out.push('', '## Figures', '', ...images.map((f) => `![${f}](${f})`));
  out.push('', '## Timings', '', markdownTable(['stage', 'seconds'], report.timings.map((t) => [t.stage, t.seconds.toFixed(2)])));
  return out.join('\n') + '\n';
}

/** Originals in odd rows, their reconstructions in the row below. */
function pairGrid(figures: EvalFigures): Buffer | undefined {
  const r = figures.reconstructions;
  if (!r || r.count === 0) return undefined;
  const { height, width, channels } = figures.shape;
  const size = height * width * channels;
  const columns = Math.min(GRID_COLUMNS, r.count);
  // Whole rows: the cells after the last pair of a short last row stay white, like the padding.
  const images = new Float32Array(2 * Math.ceil(r.count / columns) * columns * size).fill(1);
  let at = 0;
  for (let start = 0; start < r.count; start += columns) {
    const end = Math.min(r.count, start + columns);
    for (const source of [r.originals, r.reconstructions]) {
      images.set(source.subarray(start * size, end * size), at * size);
      at += columns;
    }
  }
  return imageGridPng(images, at, height, width, channels, { columns });
}

/** A scatter plot of 2-D codes, one colour per class, with a legend (drawn as `aekit latent scatter` draws it). */
export function latentScatterPng(scatter: NonNullable<EvalFigures['latentScatter']>): Buffer {
  const title = scatter.method === 'pca' ? 'Latent codes (first two principal components)' : 'Latent codes';
  return scatterPng(scatter, { title, labels: scatter.labels, classNames: scatter.classNames });
}

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /** Leave out the PNG figures. */
  figures?: boolean;
}

/**
 * Write `report.json`, `report.md` and the PNG figures the report has images for into `dir`
 * (created if needed; existing report files are replaced, each atomically).
 * @returns The written files.
 */
export async function writeReport(dir: string, report: EvalReport, options: WriteReportOptions = {}): Promise<string[]> {
  const written: string[] = [];
  const write = async (name: string, data: Uint8Array | string) => {
    const file = path.join(dir, name);
    await writeFileAtomic(file, data, { force: true });
    written.push(file);
  };
  const images: string[] = [];
  const figures = options.figures === false ? undefined : report.figures;
  if (figures) {
    const { height, width, channels } = figures.shape;
    const pngs: [string, Buffer | undefined][] = [
      [REPORT_FILES.samples, figures.samples && imageGridPng(figures.samples.images, figures.samples.count, height, width, channels, { columns: GRID_COLUMNS })],
      [REPORT_FILES.reconstructions, pairGrid(figures)],
      [REPORT_FILES.latentScatter, figures.latentScatter && figures.latentScatter.count > 0 ? latentScatterPng(figures.latentScatter) : undefined],
      [REPORT_FILES.interpolation, figures.interpolation && imageGridPng(figures.interpolation.images, figures.interpolation.count, height, width, channels, { columns: figures.interpolation.count })],
      [REPORT_FILES.translations, figures.translations && imageGridPng(figures.translations.images, figures.translations.count, height, width, channels, { columns: figures.translations.columns })],
    ];
    for (const [name, png] of pngs) {
      if (!png) continue;
      await write(name, png);
      images.push(name);
    }
  }
  await write(REPORT_FILES.json, JSON.stringify(reportJson(report), null, 2) + '\n');
  await write(REPORT_FILES.markdown, reportMarkdown(report, images));
  return written;
}
