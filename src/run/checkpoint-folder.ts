/**
 * A run's `checkpoints/` folder as a whole: which checkpoint is the newest whole one, and what a
 * killed writer left. A checkpoint is written in `<label>.tmp-<pid>-<time>/` and renamed to
 * `<label>/`; a label written again first moves the old folder to `<label>.old-<pid>-<time>/`.
 * `latest.json` then names the new one, but it is only a hint: whichever moment a writer is
 * killed at, the newest whole checkpoint is found by reading the folders themselves.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { atomicTempOwner, syncDirectory, writeFileAtomic } from '../core/atomic-write';
import { AekitError } from '../core/errors';
import { CHECKPOINT_FILES, inspectCheckpoint, wholeCheckpoint } from './checkpoint-format';
import type { TrainerState } from './checkpoint-format';
import { RunFolder } from './run-folder';
import { processAlive } from './run-info';

/** A whole checkpoint found in a checkpoints folder. */
export interface FoundCheckpoint {
  dir: string;
  label: string;
  trainer: TrainerState;
  savedAt: string;
  /** Checkpoint folders passed over as damaged, with what is wrong with each. */
  damaged: string[];
}

/** `<label>.tmp-<pid>-<time>` (being written) and `<label>.old-<pid>-<time>` (being replaced). */
const WRITER_FOLDER = /^(.+)\.(tmp|old)-(\d+)-\d+$/;

/** The name of the folder a checkpoint `label` is written in by this process. */
export function writerFolderName(label: string, kind: 'tmp' | 'old'): string {
  return `${label}.${kind}-${process.pid}-${Date.now()}`;
}

/** The label and writer of a writer folder's name, or undefined for a checkpoint's own name. */
function writerFolder(name: string): { label: string; kind: 'tmp' | 'old'; pid: number } | undefined {
  const match = WRITER_FOLDER.exec(name);
  return match ? { label: match[1], kind: match[2] as 'tmp' | 'old', pid: Number(match[3]) } : undefined;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** The run a run folder or its checkpoints folder belongs to. */
function runOf(location: string): RunFolder {
  const resolved = path.resolve(location);
  const parent = new RunFolder(path.dirname(resolved));
  return parent.checkpointsDir === resolved ? parent : new RunFolder(location);
}

/** The label `latest.json` names, if it is readable. */
async function latestLabel(folder: RunFolder): Promise<string | undefined> {
  try {
    const pointer = JSON.parse(await fs.readFile(folder.latestCheckpointPath, 'utf8')) as { checkpoint?: unknown };
    return typeof pointer.checkpoint === 'string' ? pointer.checkpoint : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The whole checkpoints of a run (writer folders left out), oldest first by step. A checkpoint
 * folder that is not whole, which no kill leaves (they are renamed into place whole), goes to
 * `damaged` with what is wrong with it.
 */
export async function wholeCheckpoints(folder: RunFolder, damaged: string[] = []): Promise<FoundCheckpoint[]> {
  const found: FoundCheckpoint[] = [];
  for (const label of await subfolders(folder.checkpointsDir)) {
    if (writerFolder(label)) continue;
    const dir = path.join(folder.checkpointsDir, label);
    const inspected = await inspectCheckpoint(dir);
    if ('manifest' in inspected) found.push({ dir, label, trainer: inspected.manifest.trainer, savedAt: inspected.manifest.savedAt, damaged });
    else damaged.push(`checkpoint ${label} is damaged (${inspected.problem})`);
  }
  return found.sort((a, b) => a.trainer.step - b.trainer.step || a.savedAt.localeCompare(b.savedAt));
}

/**
 * The newest whole checkpoint of a run folder (or of a checkpoints folder): the one furthest on in
 * training; of two at the same step, the one `latest.json` names, else the later saved. Undefined
 * when there is none.
 */
export async function newestCheckpoint(location: string): Promise<FoundCheckpoint | undefined> {
  const folder = runOf(location);
  const all = await wholeCheckpoints(folder);
  const newest = all[all.length - 1];
  if (!newest) return undefined;
  const named = await latestLabel(folder);
  return all.find((c) => c.label === named && c.trainer.step === newest.trainer.step) ?? newest;
}

/**
 * Resolve a path to a checkpoint folder: a checkpoint folder itself, a run folder or its
 * `checkpoints/` folder (the newest whole checkpoint, whatever `latest.json` says).
 * @throws AekitError FILE_NOT_FOUND for a missing path, BAD_CHECKPOINT when there is no checkpoint
 *   or one is damaged (rather than pass over it to an older one unasked).
 */
export async function findCheckpoint(location: string): Promise<string> {
  if (await exists(path.join(location, CHECKPOINT_FILES.manifest))) return location;
  const newest = await newestCheckpoint(location);
  if (newest && newest.damaged.length > 0) {
    throw new AekitError('BAD_CHECKPOINT', `${newest.damaged.join('; ')}; name a whole checkpoint folder instead, e.g. ${newest.dir}`, { where: location });
  }
  if (newest) return newest.dir;
  if (!(await exists(location))) throw new AekitError('FILE_NOT_FOUND', 'no such run folder or checkpoint', { where: location });
  if (await new RunFolder(location).exists()) {
    throw new AekitError('BAD_CHECKPOINT', 'this run has no complete checkpoint yet (it stopped before its first was written); train it with aekit train --resume', { where: location });
  }
  throw new AekitError('BAD_CHECKPOINT', 'not a run folder or checkpoint (no checkpoint.json, and no checkpoints/ folder with a complete checkpoint)', { where: location });
}

/**
 * What `aekit train --resume <location>` continues: a run folder (from its newest whole
 * checkpoint), or one checkpoint folder of a run (`<run>/checkpoints/<label>`).
 * @throws AekitError FILE_NOT_FOUND when `location` is neither.
 */
export async function resumeTarget(location: string): Promise<{ folder: RunFolder; checkpoint?: string }> {
  if (await exists(path.join(location, CHECKPOINT_FILES.manifest))) {
    const folder = RunFolder.ofCheckpoint(location);
    if (await folder.exists()) return { folder, checkpoint: path.resolve(location) };
    throw new AekitError('FILE_NOT_FOUND', `this checkpoint is not inside a run folder (no ${folder.configPath}); resume needs the run's config`, { where: location });
  }
  const folder = new RunFolder(location);
  if (await folder.exists()) return { folder };
  throw new AekitError('FILE_NOT_FOUND', 'nothing to resume: neither a run folder with a config.json nor a checkpoint folder', { where: location });
}

/** Point `latest.json` at the checkpoint `label`, with its trainer state (what sweeps and scripts read). */
export async function writeLatest(folder: RunFolder, label: string, trainer: TrainerState): Promise<void> {
  await writeFileAtomic(folder.latestCheckpointPath, JSON.stringify({ checkpoint: label, trainer }, null, 2) + '\n', { force: true });
}

/** True for a writer that may still be writing: a live process of this host other than this one. */
function mayStillWrite(pid: number, sameHost: boolean): boolean {
  return sameHost && pid !== process.pid && processAlive(pid);
}

/**
 * Make a run folder whole again before a trainer writes into it, after whatever killed the last
 * one: a checkpoint whose replacement was cut short gets its folder back (the new one when it was
 * whole, else the old), writer folders and temporary files of dead writers are removed, and
 * `latest.json` names the newest whole checkpoint. `sameHost`: the run was last trained on this
 * host, so a writer's pid can be checked; otherwise every writer is taken as gone. Returns a line
 * per thing done, for the log.
 */
export async function repairRunFolder(folder: RunFolder, sameHost = true): Promise<string[]> {
  const done: string[] = [];
  const root = folder.checkpointsDir;
  const writers = (await subfolders(root)).flatMap((name) => {
    const writer = writerFolder(name);
    return writer && !mayStillWrite(writer.pid, sameHost) ? [{ name, ...writer }] : [];
  });
  for (const label of new Set(writers.map((w) => w.label))) {
    if (await exists(path.join(root, label, CHECKPOINT_FILES.manifest))) continue;
    // Killed between moving the old folder aside and renaming the new one in: keep the newer whole one.
    const candidates = writers.filter((w) => w.label === label).sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'tmp' ? -1 : 1));
    for (const candidate of candidates) {
      if (!(await wholeCheckpoint(path.join(root, candidate.name)))) continue;
      await fs.rm(path.join(root, label), { recursive: true, force: true });
      await fs.rename(path.join(root, candidate.name), path.join(root, label));
      await syncDirectory(root);
      done.push(`restored checkpoint ${label} from ${candidate.name} (a write of it was cut short)`);
      break;
    }
  }
  for (const writer of writers) {
    if (!(await exists(path.join(root, writer.name)))) continue;
    await fs.rm(path.join(root, writer.name), { recursive: true, force: true });
    done.push(`removed ${path.join(root, writer.name)} (left by process ${writer.pid}, which is gone)`);
  }
  for (const dir of [folder.dir, root, folder.samplesDir, folder.exportDir]) {
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      const pid = atomicTempOwner(name);
      if (pid === undefined || mayStillWrite(pid, sameHost)) continue;
      await fs.rm(path.join(dir, name), { force: true });
      done.push(`removed ${path.join(dir, name)} (left by process ${pid}, which is gone)`);
    }
  }
  const newest = await newestCheckpoint(folder.dir);
  if (newest && (await latestLabel(folder)) !== newest.label) {
    await writeLatest(folder, newest.label, newest.trainer);
    done.push(`latest.json now names ${newest.label}, the newest complete checkpoint (step ${newest.trainer.step})`);
  }
  return done;
}

/**
 * Remove the checkpoints further on than `step` (resuming from an earlier checkpoint abandons
 * them, as it cuts metrics.jsonl back: a later resume must not jump to them). Returns their labels.
 */
export async function dropCheckpointsAfter(folder: RunFolder, step: number): Promise<string[]> {
  const later = (await wholeCheckpoints(folder)).filter((c) => c.trainer.step > step);
  for (const c of later) await fs.rm(c.dir, { recursive: true, force: true });
  return later.map((c) => c.label);
}
