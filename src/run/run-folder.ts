/**
 * A run folder `<outDir>/<name>/` holds everything about one run:
 *   config.json      the full resolved config
 *   metrics.jsonl    one JSON object per logged step and per epoch
 *   checkpoints/     epoch-NNNN/, final/, latest.json (see checkpoint.ts)
 *   samples/         epoch-NNNN.png grids of reconstructions and samples
 *                    progress.gif: those grids as one animation (src/train/progress-gif.ts)
 *   loss-curve.png   training and validation loss so far
 *   run.json         environment: aekit version, backend, start/end times, status
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';

/** A line of metrics.jsonl for a logged step. */
export interface StepRecord {
  kind: 'step';
  step: number;
  epoch: number;
  lr: number;
  beta: number;
  samplesPerSecond: number;
  /** Loss terms by phase-qualified name, e.g. `total`, `kl` (or `generator.total` for multi-phase models). */
  terms: Record<string, number>;
  time: string;
}

/** A line of metrics.jsonl at the end of an epoch. */
export interface EpochRecord {
  kind: 'epoch';
  epoch: number;
  step: number;
  lr: number;
  seconds: number;
  samplesPerSecond: number;
  train: Record<string, number>;
  validation: Record<string, number>;
  time: string;
}

export type MetricsRecord = StepRecord | EpochRecord;

/** Paths and writers of a run folder. */
export class RunFolder {
  constructor(readonly dir: string) {}

  get configPath(): string {
    return path.join(this.dir, 'config.json');
  }
  get metricsPath(): string {
    return path.join(this.dir, 'metrics.jsonl');
  }
  get samplesDir(): string {
    return path.join(this.dir, 'samples');
  }
  get lossCurvePath(): string {
    return path.join(this.dir, 'loss-curve.png');
  }
  get runInfoPath(): string {
    return path.join(this.dir, 'run.json');
  }

  async create(): Promise<void> {
    await fs.mkdir(this.samplesDir, { recursive: true });
  }

  async exists(): Promise<boolean> {
    try {
      await fs.access(this.configPath);
      return true;
    } catch {
      return false;
    }
  }

  async writeJson(file: string, value: unknown): Promise<void> {
    await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', { force: true });
  }

  async appendMetrics(records: readonly MetricsRecord[]): Promise<void> {
    if (records.length === 0) return;
    await fs.appendFile(this.metricsPath, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }

  /** Read metrics.jsonl (missing file = no records; a torn last line from a crash is dropped). */
  async readMetrics(): Promise<MetricsRecord[]> {
    let text: string;
    try {
      text = await fs.readFile(this.metricsPath, 'utf8');
    } catch {
      return [];
    }
    const records: MetricsRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as MetricsRecord);
      } catch {
        // A line cut by a crash mid-write: everything after it is newer than any checkpoint anyway.
        break;
      }
    }
    return records;
  }

  /** Keep only the records up to `step` (resume from a checkpoint taken at that step). */
  async truncateMetrics(step: number): Promise<MetricsRecord[]> {
    const kept = (await this.readMetrics()).filter((r) => r.step <= step);
    await writeFileAtomic(this.metricsPath, kept.map((r) => JSON.stringify(r)).join('\n') + (kept.length ? '\n' : ''), { force: true });
    return kept;
  }
}
