/**
 * Where the benchmarked artifact and its tfjs model come from: an ONNX file as given, or the part
 * of a run folder exported to a temporary file; and the run folder of an artifact, found from its
 * run id, for the tfjs rows.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { useBackend } from '../core/tfjs-backend';
import { exportRun } from '../export/run-export';
import { getFamily } from '../models';
import { findCheckpoint, loadCheckpoint } from '../run/checkpoint';

/**
 * Find the run folder an artifact came from: a folder named after the metadata's `runId` among the
 * artifact's ancestors (runs/<id>/onnx/decoder.onnx) or under ./runs, holding a checkpoint.
 */
export async function findRunFolder(artifactPath: string, runId: string, cwd = process.cwd()): Promise<string | undefined> {
  if (!runId) return undefined;
  const candidates: string[] = [];
  let dir = path.dirname(path.resolve(artifactPath));
  for (let depth = 0; depth < 4; depth++) {
    if (path.basename(dir) === runId) candidates.push(dir);
    candidates.push(path.join(dir, runId), path.join(dir, 'runs', runId));
    dir = path.dirname(dir);
  }
  candidates.push(path.join(cwd, 'runs', runId));
  for (const candidate of candidates) {
    try {
      await findCheckpoint(candidate);
      return candidate;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

/** The ONNX file to benchmark, the run folder of its tfjs model when known, and what to clean up. */
export interface ResolvedArtifact {
  artifactPath: string;
  runDir?: string;
  /** Removes the temporary export of a run folder's part. */
  cleanup?: () => Promise<void>;
}

/**
 * The artifact to benchmark: the file given, or the part of a run folder (or checkpoint) exported
 * to a temporary file (`part`, by default the decoder when the family has one).
 * @throws AekitError FILE_NOT_FOUND when `location` does not exist.
 */
export async function resolveArtifact(location: string, options: { runDir?: string; part?: string }, logger: Logger): Promise<ResolvedArtifact> {
  let stat;
  try {
    stat = await fs.stat(location);
  } catch {
    throw new AekitError('FILE_NOT_FOUND', 'no such ONNX file or run folder', { where: location });
  }
  if (stat.isFile()) return { artifactPath: location, runDir: options.runDir };
  await useBackend('auto');
  const loaded = await loadCheckpoint(location);
  const family = getFamily(loaded.model.config.family);
  loaded.model.dispose();
  const part = options.part ?? (family.exportParts.includes('decoder') ? 'decoder' : family.exportParts[0]);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-bench-'));
  const artifactPath = path.join(tmp, `${part}.onnx`);
  logger.info(`exporting the ${part} of ${location} to ${artifactPath}`);
  await exportRun(location, { out: artifactPath, parts: [part as never], verify: false });
  return { artifactPath, runDir: options.runDir ?? location, cleanup: () => fs.rm(tmp, { recursive: true, force: true }) };
}
