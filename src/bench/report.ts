/**
 * Ways to show a {@link BenchReport}: a plain-text table for the terminal, a Markdown section (the
 * figures in docs/benchmarks.md come from it), and a bar chart of throughput. The JSON report is
 * the report object itself.
 */
import { writeFileAtomic } from '../core/atomic-write';
import { barChartPng } from '../core/plot';
import type { BenchReport } from './bench';
import type { BenchRow } from './runtime-state';

/** Columns of the table, shared by the text and Markdown forms. */
const COLUMNS = [
  'runtime',
  'batch',
  'create ms',
  'first ms',
  'p50 ms (IQR)',
  'p95 ms',
  'runs',
  'images/s',
  'GFLOP/s',
  'peak MiB',
  'max abs diff',
  'agrees',
] as const;

const MIB = 1024 * 1024;

/** 3 significant digits, switching to exponent form for very small or large values. */
function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return '0';
  const a = Math.abs(value);
  if (a >= 1e6 || a < 1e-3) return value.toExponential(digits - 1);
  if (a >= 10 ** digits) return value.toFixed(0);
  return String(Number(value.toPrecision(digits)));
}

/** Peak memory: process RSS (growth over the baseline in brackets), or the page's JS heap. */
function memoryCell(row: BenchRow): string {
  const m = row.memory;
  if (!m) return '-';
  const peak = fmt(m.peakBytes / MIB);
  const heap = m.kind === 'js-heap' ? ' heap' : '';
  return m.baselineBytes !== undefined ? `${peak}${heap} (+${fmt((m.peakBytes - m.baselineBytes) / MIB)})` : `${peak}${heap}`;
}

function agreementCells(row: BenchRow, report: BenchReport): [string, string] {
  const a = row.agreement;
  if (!a) return ['-', '-'];
  if (row.runtime === report.settings.reference) return [fmt(a.maxAbsDiff), 'reference'];
  return [fmt(a.maxAbsDiff), a.ok ? 'yes' : `NO (> ${a.tolerance.atol} + ${a.tolerance.rtol}·|ref|)`];
}

/** GFLOP/s: `unknown` when the FLOPs are (never 0), `>=x` when the count left nodes out. */
function gflopsCell(row: BenchRow): string {
  if (row.flops === null) return 'unknown';
  const value = fmt(row.gflopsPerSecond);
  return row.flopsLowerBound && value !== '-' ? `>=${value}` : value;
}

/** The cells of one row, in {@link COLUMNS} order; rows that did not run carry their reason. */
function rowCells(row: BenchRow, report: BenchReport): string[] {
  if (row.status !== 'ok' && row.latencyMs === null) {
    return [row.runtime, row.batch === null ? '-' : String(row.batch), `${row.status}: ${row.reason ?? 'unknown reason'}`];
  }
  const l = row.latencyMs;
  const [diff, agrees] = agreementCells(row, report);
  return [
    row.runtime,
    String(row.batch),
    fmt(row.creationMs),
    fmt(row.firstInferenceMs),
    l ? `${fmt(l.p50)} (${fmt(l.iqr, 2)})` : '-',
    l ? fmt(l.p95) : '-',
    l ? String(l.count) : '0',
    fmt(row.imagesPerSecond),
    gflopsCell(row),
    memoryCell(row),
    diff,
    row.status === 'failed' ? `${agrees}; failed: ${row.reason}` : agrees,
  ];
}

/** What the artifact is, from its metadata: family and part (once when they coincide, as for a classifier). */
function modelKind(m: BenchReport['model']): string {
  return [...new Set([m.family, m.part].filter(Boolean))].join(' ');
}

/** Op types named in a list of `opType (node)` entries, each once, the first few. */
function opTypes(uncounted: readonly string[]): string {
  const types = [...new Set(uncounted.map((u) => u.split(' ')[0]))];
  return types.length > 4 ? `${types.slice(0, 4).join(', ')}, ...` : types.join(', ');
}

/** FLOPs per image, as the count allows: exact, a lower bound, or unknown (never a false 0). */
function flopsPhrase(m: BenchReport['model']): string {
  const left = `${m.flopsUncounted.length} node(s) not counted: ${opTypes(m.flopsUncounted)}`;
  if (m.flopsPerImage === null) return `unknown FLOPs per image (${left})`;
  if (m.flopsLowerBound) return `>=${fmt(m.flopsPerImage)} FLOPs per image (lower bound, ${left})`;
  return `${fmt(m.flopsPerImage)} FLOPs per image`;
}

/** One line about the artifact and the settings, above the table. */
function headline(report: BenchReport): string {
  const m = report.model;
  const s = report.settings;
  const what = modelKind(m);
  const dims = Object.entries(s.dims).map(([name, size]) => `${name}=${size}`);
  return (
    `${m.path}${what ? ` (${what})` : ''}: ${flopsPhrase(m)}` +
    (m.fixedBatch !== null ? `; batch fixed at ${m.fixedBatch} by the model` : '') +
    (dims.length ? `; ${dims.join(', ')}` : '') +
    `; ${s.warmup} warm-up + ${s.runs} timed runs per runtime and batch, interleaved; ${s.threads} thread(s); agreement vs ${s.reference}, |out - ref| <= ${s.tolerance.atol} + ${s.tolerance.rtol}·|ref|`
  );
}

/** Refused batch sizes as short rows (runtime column: every runtime). */
function refusedCells(report: BenchReport): string[][] {
  return report.refusedBatches.map(({ batch, reason }) => ['(all)', String(batch), `refused: ${reason}`]);
}

/** A description of the machine, for the text and Markdown reports. */
export function describeMachine(report: BenchReport): string {
  const m = report.machine;
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  return `${m.cpuModel}, ${m.cpus} logical CPUs, ${(m.totalMemoryBytes / 1024 ** 3).toFixed(0)} GiB RAM, ${m.platform} (${m.release}), Node ${m.node}; load average ${load(m.loadAverage.start)} at the start, ${load(m.loadAverage.end)} at the end`;
}

/** The report as an aligned plain-text table (what `aekit bench` prints). */
export function formatBenchTable(report: BenchReport): string {
  const rows = [...report.rows.map((r) => rowCells(r, report)), ...refusedCells(report)];
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.filter((r) => r.length === COLUMNS.length).map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.length === COLUMNS.length
      ? cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
      : `${cells[0].padEnd(widths[0])}  ${cells[1].padStart(widths[1])}  ${cells[2]}`;
  const details = runtimeDetails(report).map(([rt, d]) => `  ${rt}: ${d}`);
  return [
    headline(report),
    `machine: ${describeMachine(report)}`,
    '',
    line(COLUMNS),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'p50 ms (IQR): median latency and the spread of the middle half of the timed runs; peak MiB: peak RSS of the runtime\'s process (growth while loading and running in brackets), or the page\'s JS heap for browser rows.',
    ...(details.length ? ['runtimes:', ...details] : []),
  ].join('\n');
}

/** What each runtime that ran was (versions, backend, adapter) and the threads it computed with. */
function runtimeDetails(report: BenchReport): [string, string][] {
  const seen = new Map<string, string>();
  for (const row of report.rows) {
    if (!row.detail || seen.has(row.runtime)) continue;
    seen.set(row.runtime, row.threads === null ? row.detail : `${row.detail}; ${row.threads} thread${row.threads === 1 ? '' : 's'}`);
  }
  return [...seen.entries()];
}

function escapeMd(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The report as a Markdown section body: settings, machine, the table and what each runtime was. */
export function benchMarkdown(report: BenchReport): string {
  const header = `| ${COLUMNS.join(' | ')} |`;
  const rule = `|${COLUMNS.map((_, i) => (i < 1 ? ' --- ' : ' ---: ')).join('|')}|`;
  const body = [...report.rows.map((r) => rowCells(r, report)), ...refusedCells(report)].map((raw) => {
    const cells = raw.map(escapeMd);
    while (cells.length < COLUMNS.length) cells.push('');
    return `| ${cells.join(' | ')} |`;
  });
  const details = runtimeDetails(report);
  return [
    headline(report),
    '',
    `Machine: ${describeMachine(report)}.`,
    '',
    header,
    rule,
    ...body,
    '',
    ...details.map(([rt, d]) => `- \`${rt}\`: ${escapeMd(d)}`),
  ].join('\n');
}

/** A grouped bar chart of throughput (images/s, log scale): one group per runtime, one bar per batch size. */
export function benchChartPng(report: BenchReport): Buffer {
  const runtimes = [...new Set(report.rows.filter((r) => r.status === 'ok').map((r) => r.runtime))];
  const batches = report.settings.batches;
  const value = (runtime: string, batch: number) => report.rows.find((r) => r.runtime === runtime && r.batch === batch)?.imagesPerSecond ?? null;
  const kind = modelKind(report.model);
  const name = report.model.runId ? `${report.model.runId}${kind ? ` (${kind})` : ''}` : kind || 'model';
  return barChartPng({
    title: `Throughput by runtime: ${name} (median latency of ${report.settings.maxSeconds === null ? '' : 'up to '}${report.settings.runs} runs)`,
    yLabel: 'images / s (log scale)',
    categories: runtimes,
    series: batches.map((b) => ({ name: `batch ${b}`, values: runtimes.map((rt) => value(rt, b)) })),
    logY: true,
  });
}

/** Files {@link writeBenchReport} writes (each optional). */
export interface BenchReportFiles {
  /** The report object as JSON (fields: {@link BenchReport}). */
  json?: string;
  /** {@link benchMarkdown}. */
  md?: string;
  /** {@link benchChartPng}. */
  png?: string;
}

/** Write the report in the forms asked for; existing files are replaced (reports are outputs, re-run freely). */
export async function writeBenchReport(report: BenchReport, files: BenchReportFiles): Promise<void> {
  if (files.json) await writeFileAtomic(files.json, JSON.stringify(report, jsonNumbers, 2) + '\n', { force: true });
  if (files.md) await writeFileAtomic(files.md, benchMarkdown(report) + '\n', { force: true });
  if (files.png) await writeFileAtomic(files.png, benchChartPng(report), { force: true });
}

/** JSON has no Infinity: an output that could not be compared at all is written as null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
