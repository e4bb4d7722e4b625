/**
 * What `aekit eval` evaluates: one `.onnx` artifact, a folder of artifacts, or a run folder (its
 * exported artifacts when they exist, else a fresh export to a temporary folder). Resolves the
 * target to one onnxruntime session per part, all from the same run; where the run's files are is
 * src/run/run-folder.ts's business.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError, isAekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { parseDatasetSpec } from '../data/registry';
import type { DatasetSpec } from '../data/registry';
import { readMetadata } from '../artifact/onnx-io';
import { findCheckpoint } from '../run/checkpoint';
import { RUN_EXPORT_FOLDER, RunFolder } from '../run/run-folder';
import type { RunConfig } from '../run/config';
import { exportRun } from '../export/run-export';
import { OnnxModel } from './onnx-session';
import type { OnnxModelOptions } from './onnx-session';

/** Sub-folder of a run that `aekit export <run> --out <run>/onnx` fills and eval looks for first (the run layer's {@link RUN_EXPORT_FOLDER}). */
export const RUN_ONNX_FOLDER = RUN_EXPORT_FOLDER;

/**
 * Parts eval uses. A classifier is evaluated (its accuracy) only when the target has none of the
 * other parts, so a folder holding a model and the FID classifier evaluates the model;
 * discriminators are ignored. generatorAB/generatorBA are the two directions of an unpaired
 * translation model (cyclegan).
 */
export const EVAL_PARTS = ['encoder', 'decoder', 'generator', 'generatorAB', 'generatorBA', 'classifier'] as const;
/** See {@link EVAL_PARTS}. */
export type EvalPart = (typeof EVAL_PARTS)[number];

/** The artifacts of one model, loaded. */
export interface LoadedTarget {
  /** The path the caller gave. */
  source: string;
  family: string;
  runId: string;
  /** Each loaded part; `generator` is the decoder of families without an encoder. */
  parts: Partial<Record<EvalPart, OnnxModel>>;
  /** Set when a run folder had no `onnx/` and was exported to a temporary folder. */
  exportedTo?: string;
  /**
   * The dataset of the run the artifacts belong to (its `config.json`, found next to the target or
   * one folder up), without the run's `limit`, so that evaluation sees the whole test split.
   */
  runDataset?: DatasetSpec;
  /** The run's model config (its `config.json`), for what artifacts do not record (e.g. a categorical layout). */
  runModel?: Record<string, unknown>;
  /**
   * The run's `train.seed`: the seed its data was split with (image folders and IDX pairs hold out
   * their test images by seed), so evaluation must split with it too to stay off training images.
   */
  runSeed?: number;
  /** The run's config file the three fields above come from, for messages. */
  runConfigPath?: string;
  /** Release the sessions and remove the temporary export. */
  release(): Promise<void>;
}

/** Options of {@link loadTarget}. */
export interface LoadTargetOptions extends OnnxModelOptions {
  logger?: Logger;
}

async function onnxFilesIn(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.onnx')).sort().map((n) => path.join(dir, n));
}

/** Warn when a run's checkpoints are newer than its exported artifacts (re-export needed). */
async function warnIfStale(run: RunFolder, files: string[], logger: Logger): Promise<void> {
  const latest = await run.latestCheckpointTime();
  if (latest === undefined) return;
  const stats = await Promise.all(files.map((f) => fs.stat(f)));
  const oldest = Math.min(...stats.map((s) => s.mtimeMs));
  if (latest > oldest) {
    logger.warn(`${run.exportDir} is older than the run's latest checkpoint; re-run 'aekit export' to evaluate the newest weights`);
  }
}

/**
 * Resolve `target` to artifact files: a `.onnx` file; a folder holding `.onnx` files; a run folder
 * with exported artifacts ({@link RunFolder.exportedArtifacts}); or a run folder (or checkpoint)
 * without, exported with `exportRun` to a temporary folder (verified on onnxruntime-node, the
 * runtime eval uses).
 */
async function resolveFiles(target: string, logger: Logger): Promise<{ files: string[]; exportedTo?: string }> {
  const stat = await fs.stat(target).catch(() => null);
  if (!stat) throw new AekitError('FILE_NOT_FOUND', 'no such ONNX file or run folder', { where: target });
  if (stat.isFile()) {
    if (!target.endsWith('.onnx')) throw new AekitError('BAD_ARGUMENT', 'expected a .onnx file or a run folder', { where: target });
    return { files: [target] };
  }
  const here = await onnxFilesIn(target);
  if (here.length > 0) return { files: here };
  const run = new RunFolder(target);
  const exported = await run.exportedArtifacts();
  if (exported.length > 0) {
    await warnIfStale(run, exported, logger);
    return { files: exported };
  }
  // Before announcing an export: a run with no checkpoint (or no run at all) says so first.
  const checkpoint = await findCheckpoint(target);
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-eval-'));
  try {
    logger.info(`${target} has no ${RUN_EXPORT_FOLDER}/ folder: exporting its checkpoint ${path.relative(target, checkpoint) || '.'} to ${out}`);
    const result = await exportRun(target, { out, runtimes: ['ort-node-cpu'], logger });
    return { files: result.artifacts.map((a) => a.path), exportedTo: out };
  } catch (error) {
    await fs.rm(out, { recursive: true, force: true });
    throw error;
  }
}

type RunConfigParts = Pick<LoadedTarget, 'runDataset' | 'runModel' | 'runSeed' | 'runConfigPath'>;

/**
 * The dataset, model config and seed of the run folder `target` is in (or is), if any. A config
 * that does not resolve is reported and left out: the caller falls back to the artifacts' metadata.
 */
async function runConfigOf(target: string, logger: Logger): Promise<RunConfigParts> {
  const run = await RunFolder.containing(target);
  if (!run) return {};
  let config: RunConfig;
  try {
    config = await run.readConfig();
  } catch (error) {
    if (!isAekitError(error)) throw error;
    logger.warn(`ignoring the run config (${error.message}); evaluating with what the artifacts record`);
    return {};
  }
  const { limit: _limit, ...whole } = config.data.dataset as DatasetSpec & { limit?: number };
  return { runModel: config.model, runSeed: config.train.seed, runDataset: parseDatasetSpec(whole, `${run.configPath}: data.dataset`), runConfigPath: run.configPath };
}

/**
 * Load the encoder/decoder/generator artifacts of a target, checking that they come from one run.
 * @throws AekitError FILE_NOT_FOUND, BAD_ARGUMENT (no usable part, parts of different runs, a part
 *   twice), or the export and metadata errors.
 */
export async function loadTarget(target: string, options: LoadTargetOptions = {}): Promise<LoadedTarget> {
  const logger = options.logger ?? silentLogger;
  const { files, exportedTo } = await resolveFiles(target, logger);
  const parts: Partial<Record<EvalPart, OnnxModel>> = {};
  const release = async () => {
    await Promise.all(Object.values(parts).map((m) => m.release()));
    if (exportedTo) await fs.rm(exportedTo, { recursive: true, force: true });
  };
  try {
    const seenParts = files.map((file) => readMetadata(file).part);
    const modelParts: readonly string[] = EVAL_PARTS.filter((p) => p !== 'classifier');
    const wanted = seenParts.some((p) => modelParts.includes(p)) ? modelParts : ['classifier'];
    for (const [i, file] of files.entries()) {
      if (!wanted.includes(seenParts[i])) continue;
      const model = await OnnxModel.load(file, options);
      const part = model.metadata.part;
      const first = Object.values(parts)[0];
      if (first) {
        for (const field of ['family', 'runId'] as const) {
          if (model.metadata[field] !== first.metadata[field]) {
            await model.release();
            throw new AekitError('BAD_ARGUMENT', `artifacts of different models: '${model.metadata[field]}' here, '${first.metadata[field]}' in ${first.path}`, {
              where: `${file}: aekit.${field}`,
            });
          }
        }
      }
      if (parts[part as EvalPart]) {
        await model.release();
        throw new AekitError('BAD_ARGUMENT', `two ${part} artifacts: ${parts[part as EvalPart]!.path} and ${file}`, { where: target });
      }
      parts[part as EvalPart] = model;
    }
    const first = Object.values(parts)[0];
    if (!first) {
      throw new AekitError('BAD_ARGUMENT', `expected an encoder, decoder, generator or classifier artifact, found parts: ${seenParts.join(', ') || 'none'}`, {
        where: target,
      });
    }
    return { source: target, family: first.metadata.family, runId: first.metadata.runId, parts, exportedTo, ...(await runConfigOf(target, logger)), release };
  } catch (error) {
    await release();
    throw error;
  }
}
