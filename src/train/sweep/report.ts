/**
 * The sweep's report: one table row per configuration (train and validation metrics of its last
 * epoch), the selected configurations' test figures, and a chart of validation curves.
 */
import { lineChartPng } from '../../core/plot';
import type { Series } from '../../core/plot';
import type { EpochRecord } from '../../run/run-folder';
import { shortKeys } from './grid';

/**
 * What happened to one configuration ('pending': not trained yet, after a dry run or an abort, or
 * queued on Slurm; 'running': training in a Slurm task when the sweep stopped looking).
 */
export type SweepRunStatus = 'finished' | 'diverged' | 'failed' | 'interrupted' | 'pending' | 'running';

/** Statuses of runs that a rerun (or the running Slurm job) still has to train. */
export const UNFINISHED_STATUSES: readonly SweepRunStatus[] = ['interrupted', 'pending', 'running'];

/** What the sweep did with a run folder this time. */
export type SweepAction = 'new' | 'resumed' | 'restarted' | 'skipped';

/** One configuration's outcome. */
export interface SweepRunResult {
  name: string;
  variant?: string;
  values: Record<string, unknown>;
  action: SweepAction;
  status: SweepRunStatus;
  runDir: string;
  /** The child process's output. */
  log: string;
  epochs: number;
  /** Training time over all epochs (from the run's metrics, so skipped runs report theirs too). */
  seconds: number;
  /** Last epoch's mean training loss terms. */
  train: Record<string, number>;
  /** Last epoch's validation metrics. */
  validation: Record<string, number>;
  /** Test-split metrics, for the selected configurations only. */
  test?: { count: number; metrics: Record<string, number> };
  /** Why the run failed or diverged (the child's error line). */
  error?: string;
  /** The Slurm array task that trained it this time, and the state it ended in (executor slurm). */
  slurm?: { task: string; state: string };
}

/** The Slurm job of a sweep (executor slurm, or `--collect` of a sweep that has one). */
export interface SweepSlurmJob {
  /** Job ID of the array; undefined on a dry run (nothing submitted). */
  jobId?: string;
  /** The job script: written under `<sweep>/slurm/` when submitted. */
  scriptFile?: string;
  /** Its text (dry runs show it). */
  script?: string;
  /** Tasks still queued or running when the sweep stopped looking (detached, Ctrl-C, `--collect`). */
  active: number;
  /** True when this call submitted the job (false: it followed one submitted earlier). */
  submitted: boolean;
}

/** Everything a sweep produced. */
export interface SweepResult {
  name: string;
  dir: string;
  split: readonly [number, number, number];
  /** Validation metric used for selection (undefined when no run reported one). */
  metric?: string;
  goal: 'min' | 'max';
  gridKeys: string[];
  runs: SweepRunResult[];
  /** Names of the selected runs, best first. */
  selected: string[];
  files: { json: string; markdown: string; curves?: string };
  /** The Slurm job behind this call, if there is one. */
  slurm?: SweepSlurmJob;
}

/** Compact number for tables. */
export function formatMetric(value: number | undefined): string {
  if (value === undefined) return '';
  if (!Number.isFinite(value)) return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return value.toExponential(3);
  return a >= 10 ? value.toFixed(2) : a >= 1 ? value.toFixed(4) : value.toFixed(5);
}

function valueText(value: unknown): string {
  return Array.isArray(value) || (typeof value === 'object' && value !== null) ? JSON.stringify(value) : String(value);
}

/** Columns of the train part: the loss (`total`, which at beta 1 is the negative ELBO) and reconstruction. */
function trainColumns(runs: readonly SweepRunResult[]): string[] {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.train)));
  return ['total', 'reconstruction'].filter((k) => keys.has(k));
}

/** Columns of the validation/test part: the selection metric, then reconstruction. */
function evalColumns(runs: readonly SweepRunResult[], metric: string | undefined): string[] {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.validation)));
  return [...new Set([metric, 'reconstruction'].filter((k): k is string => k !== undefined && keys.has(k)))];
}

function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

/** The sweep as Markdown: configurations table, then the selected configurations on the test split. */
export function sweepMarkdown(result: Omit<SweepResult, 'files'>): string {
  const short = shortKeys(result.gridKeys);
  // Without a grid the run name is the variant name, so the column would repeat it.
  const hasVariants = result.gridKeys.length > 0 && result.runs.some((r) => r.variant !== undefined);
  const trainCols = trainColumns(result.runs);
  const valCols = evalColumns(result.runs, result.metric);
  const header = [
    'run',
    ...(hasVariants ? ['variant'] : []),
    ...result.gridKeys.map((k) => short[k]),
    'status',
    'epochs',
    ...trainCols.map((c) => `train ${c}`),
    ...valCols.map((c) => `val ${c}`),
    'time (s)',
  ];
  const rows = result.runs.map((r) => [
    result.selected.includes(r.name) ? `**${r.name}**` : r.name,
    ...(hasVariants ? [r.variant ?? ''] : []),
    ...result.gridKeys.map((k) => valueText(r.values[k])),
    r.status,
    String(r.epochs),
    ...trainCols.map((c) => formatMetric(r.train[c])),
    ...valCols.map((c) => formatMetric(r.validation[c])),
    r.seconds.toFixed(1),
  ]);
  const [train, val, test] = result.split;
  const unfinished = result.runs.filter((r) => UNFINISHED_STATUSES.includes(r.status)).length;
  const parts = [
    `## Sweep ${result.name}`,
    '',
    `Split of the training data: ${pct(train)} train / ${pct(val)} validation / ${pct(test)} test. ` +
      (result.metric ? `Selected (bold) by validation ${result.metric} (${result.goal === 'min' ? 'lower' : 'higher'} is better); the test split was not used before.` : 'No run reported a validation metric, so none was selected.') +
      (trainCols.includes('total') ? ' Train columns are the last epoch\'s means: `total` is the training loss (for a VAE at beta 1, the negative ELBO).' : '') +
      (unfinished > 0 ? ` **${unfinished} run(s) not trained to the end: the selection is provisional and the test split waits; rerun the sweep to finish them.**` : ''),
    '',
    markdownTable(header, rows),
  ];
  const tested = result.selected.map((n) => result.runs.find((r) => r.name === n)).filter((r): r is SweepRunResult => r?.test !== undefined);
  if (tested.length > 0) {
    const testCols = valCols.filter((c) => tested.some((r) => c in r.test!.metrics));
    parts.push(
      '',
      `### Test split (${tested[0].test!.count} images)`,
      '',
      markdownTable(
        ['run', ...testCols.map((c) => `val ${c}`), ...testCols.map((c) => `test ${c}`)],
        tested.map((r) => [r.name, ...testCols.map((c) => formatMetric(r.validation[c])), ...testCols.map((c) => formatMetric(r.test!.metrics[c]))]),
      ),
    );
  }
  const failed = result.runs.filter((r) => r.error);
  if (failed.length > 0) parts.push('', ...failed.map((r) => `- ${r.name} ${r.status}: ${r.error} (log: ${r.log})`));
  return parts.join('\n') + '\n';
}

function pct(f: number): string {
  return `${Math.round(f * 1000) / 10}%`;
}

/** Most runs drawn in the curves chart (the chart palette has eight colours). */
export const CURVES_MAX_RUNS = 8;

/**
 * Validation metric per epoch of the best runs (at most {@link CURVES_MAX_RUNS}, best first), or
 * undefined when there is nothing to draw.
 */
export function sweepCurvesPng(name: string, metric: string | undefined, ranked: readonly { name: string; epochs: readonly EpochRecord[] }[]): Buffer | undefined {
  if (!metric) return undefined;
  const series: Series[] = ranked.slice(0, CURVES_MAX_RUNS).map((run) => ({
    name: run.name,
    points: run.epochs.filter((e) => metric in e.validation).map((e) => [e.epoch, e.validation[metric]] as [number, number]),
    markers: true,
  }));
  if (!series.some((s) => s.points.length > 0)) return undefined;
  const shown = ranked.length > CURVES_MAX_RUNS ? ` (best ${CURVES_MAX_RUNS} of ${ranked.length})` : '';
  return lineChartPng({ title: `${name}: validation ${metric}${shown}`, xLabel: 'epoch', yLabel: metric, series });
}
