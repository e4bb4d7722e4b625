/**
 * A run folder `<outDir>/<name>/` holds everything about one run:
 *   config.json      the full resolved config
 *   metrics.jsonl    one JSON object per logged step and per epoch
 *   checkpoints/     epoch-NNNN/, interrupted/, last-good/, latest.json (see checkpoint.ts;
 *                    checkpoint-folder.ts finds the newest complete one and clears what a kill left)
 *   samples/         epoch-NNNN.png grids of reconstructions and samples
 *                    progress.gif: those grids as one animation (src/train/progress-gif.ts)
 *   loss-curve.png   training and validation loss so far
 *   run.json         environment: aekit version, backend, start/end times, trainer pid/host, status
 *                    (see run-info.ts)
 *   onnx/            the artifacts of `aekit export <run> --out <run>/onnx`, when exported there
 *
 * Other stages find these files through {@link RunFolder}, never by joining the names themselves.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write';
import { readJsonFile } from '../core/json-file';
import { resolveRunConfig } from './config';
import type { RunConfig } from './config';

/** Sub-folder of a run that `aekit export <run> --out <run>/onnx` fills, and where eval looks for a run's artifacts first. */
export const RUN_EXPORT_FOLDER = 'onnx';

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

/** Paths, readers and writers of a run folder. */
export class RunFolder {
  constructor(readonly dir: string) {}

  /**
   * The run folder `location` is in or is: `location` itself (a folder), or the folder holding it
   * (a file, or a sub-folder such as `<run>/onnx`), whichever has a `config.json` first; undefined
   * when neither has one (loose artifacts).
   */
  static async containing(location: string): Promise<RunFolder | undefined> {
    const stat = await fs.stat(location).catch(() => undefined);
    const dir = stat?.isFile() ? path.dirname(location) : location;
    for (const candidate of [dir, path.dirname(dir)]) {
      const folder = new RunFolder(candidate);
      if (await folder.exists()) return folder;
    }
    return undefined;
  }

  /** The run a checkpoint folder (`<run>/checkpoints/<label>/`) belongs to. */
  static ofCheckpoint(checkpointDir: string): RunFolder {
    return new RunFolder(path.resolve(checkpointDir, '..', '..'));
  }

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
  /** `checkpoints/`: one folder per checkpoint and `latest.json`, which names the newest (see checkpoint.ts). */
  get checkpointsDir(): string {
    return path.join(this.dir, 'checkpoints');
  }
  /** The pointer to the newest checkpoint. */
  get latestCheckpointPath(): string {
    return path.join(this.checkpointsDir, 'latest.json');
  }
  /** Where `aekit export <run> --out <run>/onnx` puts the run's artifacts ({@link RUN_EXPORT_FOLDER}). */
  get exportDir(): string {
    return path.join(this.dir, RUN_EXPORT_FOLDER);
  }

  /**
   * The run's config.json, validated and resolved as the trainer resolves it.
   * @throws AekitError FILE_NOT_FOUND when it cannot be read, BAD_CONFIG (or UNKNOWN_NAME for an
   *   unknown family or dataset) when it is not a valid run config, naming the file.
   */
  async readConfig(): Promise<RunConfig> {
    return resolveRunConfig(await readJsonFile(this.configPath, { what: 'run config', object: true }), this.configPath);
  }

  /** The `.onnx` files in {@link exportDir}, sorted by name (none when the run was not exported there). */
  async exportedArtifacts(): Promise<string[]> {
    const names = await fs.readdir(this.exportDir).catch(() => [] as string[]);
    return names
      .filter((n) => n.endsWith('.onnx'))
      .sort()
      .map((n) => path.join(this.exportDir, n));
  }

  /** When the newest checkpoint was saved (ms since the epoch, from `latest.json`), or undefined when the run has none. */
  async latestCheckpointTime(): Promise<number | undefined> {
    const stat = await fs.stat(this.latestCheckpointPath).catch(() => undefined);
    return stat?.mtimeMs;
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
