/**
 * `aekit export`'s library half: a run folder or checkpoint -> one ONNX artifact per part, with the
 * run's metadata (family, latent size, classes, value range, dataset, run id, final metrics),
 * written atomically, verified on onnxruntime-node and onnxruntime-web, and optionally laid out
 * as a Triton model repository.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { tf, useBackend } from '../core/tfjs-backend';
import { getFamily } from '../models';
import type { FamilyModel, PartName } from '../models';
import type { CategoricalLayout } from '../artifact/metadata';
import { rawMetadata } from '../artifact/onnx-io';
import { loadCheckpoint } from '../run/checkpoint';
import { RUN_EXPORT_FOLDER, RunFolder } from '../run/run-folder';
import type { EpochRecord } from '../run/run-folder';
import { writeOnnxAtomic } from '../core/atomic-write';
import { exportLayersModel } from './export';
import type { ArtifactMetadataInput, ExportResult } from './export';
import { writeTritonRepository } from './triton';
import { verifyOnnx } from './verify';
import type { VerifyReport } from './verify';
import type { OrtRuntime } from '../artifact/runtime';

/** Options of {@link exportRun}. */
export interface ExportRunOptions {
  /**
   * A `.onnx` file (one part) or a folder (one `<part>.onnx` per part); default: the run's
   * `onnx/` folder ({@link RUN_EXPORT_FOLDER}).
   */
  out?: string;
  /** Parts to export; 'all' (default) = every part the family exports. */
  parts?: PartName[] | 'all';
  opset?: number;
  fp16?: boolean;
  /** Check the artifact against the tfjs model on every runtime (default true). */
  verify?: boolean;
  /** Relative part of the check's bound |onnx - tfjs| <= atol + rtol·|tfjs| (default: verify.ts's FP32_RTOL, FP16_RTOL for fp16). */
  rtol?: number;
  /** Absolute part of that bound (default: FP32_TOLERANCE, FP16_TOLERANCE for fp16). */
  atol?: number;
  runtimes?: OrtRuntime[];
  /**
   * Replace existing files that hold a different export. A file that already holds exactly what
   * this export would write (same checkpoint, same options) is left alone without it.
   */
  force?: boolean;
  /** Also write a Triton model repository here (models named `<run>-<part>`). */
  triton?: string;
  seed?: number;
  logger?: Logger;
}

/** One written artifact. */
export interface ExportedArtifact {
  part: PartName;
  path: string;
  bytes: number;
  result: ExportResult;
  verify?: VerifyReport;
  tritonDir?: string;
  /** The file already held this very export (same bytes but for `createdAt`): nothing was written or re-verified. */
  unchanged?: boolean;
}

/** What {@link exportRun} wrote. */
export interface ExportRunResult {
  checkpoint: string;
  family: string;
  /** Where the artifacts went (`options.out`, or the run's `onnx/` folder). */
  out: string;
  artifacts: ExportedArtifact[];
}

/** Metadata that describes a model of a run (everything but what the converter fills in). */
export function artifactMetadata(model: FamilyModel, runId: string, dataset: string, trainingMetrics?: Record<string, number>): ArtifactMetadataInput {
  const metadata: ArtifactMetadataInput = {
    family: model.config.family,
    valueRange: model.shape.valueRange,
    dataset,
    runId,
  };
  if (model.latentSize !== undefined) metadata.latentSize = model.latentSize;
  if (model.shape.numClasses > 0) metadata.numClasses = model.shape.numClasses;
  const prior = getFamily(model.config.family).evaluation.prior;
  if (prior) metadata.prior = prior;
  const categorical = (model.config as { categorical?: CategoricalLayout }).categorical;
  if (categorical) metadata.categorical = { variables: categorical.variables, classes: categorical.classes };
  if (trainingMetrics && Object.keys(trainingMetrics).length > 0) metadata.trainingMetrics = trainingMetrics;
  return metadata;
}

async function runContext(checkpointDir: string): Promise<{ runId: string; dataset: string; metrics?: Record<string, number> }> {
  const folder = RunFolder.ofCheckpoint(checkpointDir);
  let dataset = 'unknown';
  try {
    const spec = (await folder.readConfig()).data.dataset;
    dataset = spec.name === 'folder' ? `folder:${path.basename(spec.path)}` : spec.name;
  } catch {
    // A bare checkpoint folder without its run: the artifact says dataset 'unknown'.
  }
  const epochs = (await folder.readMetrics()).filter((r): r is EpochRecord => r.kind === 'epoch');
  const last = epochs[epochs.length - 1];
  const metrics = last
    ? Object.fromEntries([
        ...Object.entries(last.train).map(([k, v]) => [`train.${k}`, v] as const),
        ...Object.entries(last.validation).map(([k, v]) => [`validation.${k}`, v] as const),
        ['epochs', last.epoch] as const,
      ])
    : undefined;
  return { runId: path.basename(folder.dir), dataset, metrics };
}

/** Export the parts of a trained run (or checkpoint) to ONNX. */
export async function exportRun(location: string, options: ExportRunOptions): Promise<ExportRunResult> {
  const logger = options.logger ?? silentLogger;
  await useBackend('auto');
  const loaded = await loadCheckpoint(location);
  const model = loaded.model;
  try {
    const family = getFamily(model.config.family);
    const parts = options.parts === undefined || options.parts === 'all' ? [...family.exportParts] : options.parts;
    for (const part of parts) {
      if (!model.parts[part]) {
        throw new AekitError('BAD_ARGUMENT', `family '${family.name}' has no part '${part}'; it has: ${Object.keys(model.parts).join(', ')}`, { where: '--part' });
      }
    }
    const out = options.out ?? (await defaultOut(loaded.dir));
    const single = out.endsWith('.onnx');
    if (single && parts.length > 1) {
      throw new AekitError('BAD_ARGUMENT', `--out is one file but ${parts.length} parts are exported (${parts.join(', ')}); give a folder or --part`, { where: out });
    }
    if (!single) await fs.mkdir(out, { recursive: true });
    const context = await runContext(loaded.dir);
    const artifacts: ExportedArtifact[] = [];
    for (const part of parts) {
      const tfModel = model.parts[part]!;
      const names = model.ioNames[part];
      const file = single ? out : path.join(out, `${part}.onnx`);
      // Re-exporting what is already there is a no-op: export again with the file's own
      // createdAt and compare bytes, so "the same" means the same checkpoint and options.
      const existing = options.force ? undefined : await readExisting(file);
      const result = await exportLayersModel(tfModel, {
        part,
        metadata: {
          ...artifactMetadata(model, context.runId, context.dataset, context.metrics),
          ...(model.conditional && names?.inputs.includes('label') ? { labelInput: { name: 'label', encoding: 'one-hot' as const } } : {}),
          ...(existing?.createdAt !== undefined ? { createdAt: existing.createdAt } : {}),
        },
        opset: options.opset,
        fp16: options.fp16,
        inputNames: names?.inputs,
        outputNames: names?.outputs,
        seed: options.seed,
      });
      const unchanged = existing !== undefined;
      if (existing && !Buffer.from(existing.bytes).equals(Buffer.from(result.bytes))) {
        throw new AekitError('ALREADY_EXISTS', 'holds a different export (another checkpoint, part or options); use --force to replace it', { where: file });
      }
      let verify: VerifyReport | undefined;
      if (unchanged) {
        logger.info(`${part}: ${file} already holds this export; left as it is`);
      } else {
        if (options.verify !== false) {
          // Verify before writing, so a failing artifact never lands on disk.
          verify = await verifyOnnx(tfModel, result.bytes, { seed: options.seed ?? 0, runtimes: options.runtimes, rtol: options.rtol, atol: options.atol });
        }
        await writeOnnxAtomic(file, result.bytes, { force: options.force });
        logger.info(`${part}: wrote ${file} (${(result.bytes.length / 1024).toFixed(1)} KiB)`);
      }
      // A Triton repository is written even when the artifact was already there (it is asked for, and new).
      let tritonDir: string | undefined;
      if (options.triton) {
        const written = await writeTritonRepository(options.triton, `${context.runId}-${part}`, result.bytes, { inputs: result.inputs, outputs: result.outputs }, { force: options.force });
        tritonDir = written.modelDir;
      }
      artifacts.push({ part, path: file, bytes: result.bytes.length, result, verify, tritonDir, ...(unchanged ? { unchanged } : {}) });
    }
    return { checkpoint: loaded.dir, family: family.name, out, artifacts };
  } finally {
    model.dispose();
  }
}

/** `<run>/onnx` for a checkpoint inside a run folder; a loose checkpoint needs an explicit `out`. */
async function defaultOut(checkpointDir: string): Promise<string> {
  const run = RunFolder.ofCheckpoint(checkpointDir);
  if (!(await run.exists())) {
    throw new AekitError('BAD_ARGUMENT', `required: the checkpoint ${checkpointDir} is not inside a run folder, so there is no <run>/${RUN_EXPORT_FOLDER} to default to`, { where: '-o, --out <file.onnx|dir>' });
  }
  return path.relative(process.cwd(), run.exportDir) || run.exportDir;
}

/** An existing artifact's bytes and `createdAt`; undefined when there is no file. */
async function readExisting(file: string): Promise<{ bytes: Uint8Array; createdAt?: string } | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch {
    return undefined;
  }
  let createdAt: string | undefined;
  try {
    const value = rawMetadata(bytes).createdAt;
    if (typeof value === 'string') createdAt = value;
  } catch {
    // Not an aekit artifact: it cannot match, so it is "a different export".
  }
  return { bytes, createdAt };
}
