/**
 * Where a run starts: its folder opened as asked (new, overwritten, or resumed after whatever
 * stopped the last trainer, a kill included), and the model, trainer and optimizer state it
 * continues from.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import type { FamilyModel } from '../models';
import { loadCheckpoint, newestCheckpoint } from '../run/checkpoint';
import type { AdamState, EpochSoFar, TrainerState } from '../run/checkpoint';
import { dropCheckpointsAfter, repairRunFolder } from '../run/checkpoint-folder';
import type { RunConfig } from '../run/config';
import type { MetricsRecord, RunFolder } from '../run/run-folder';
import { claimRun, currentRunInfo, describeRunStatus, trainerIdentity } from '../run/run-info';
import type { RunInfo } from '../run/run-info';
import type { EpochTraining } from './epoch-report';

/**
 * Check, writing nothing, that a run folder may be used as asked: an existing run needs `resume`
 * (continue) or `overwrite` (replace); `resume` needs an existing run.
 * @throws AekitError ALREADY_EXISTS (naming the existing run's status) or FILE_NOT_FOUND
 */
export async function checkRunFolder(folder: RunFolder, options: { resume?: boolean; overwrite?: boolean }): Promise<void> {
  const exists = await folder.exists();
  if (exists && !options.resume && !options.overwrite) {
    const info = await currentRunInfo(folder);
    throw new AekitError('ALREADY_EXISTS', `a run with this name exists${info ? ` (${describeRunStatus(info)})` : ''}; pass --resume to continue it or --overwrite to start again`, { where: folder.dir });
  }
  if (!exists && options.resume) throw new AekitError('FILE_NOT_FOUND', 'nothing to resume: no run folder with a config.json', { where: folder.dir });
}

/**
 * Check that a run folder may be used as asked, then create it: an existing run needs `resume`
 * (continue) or `overwrite` (removed first); `resume` needs an existing run that no live process
 * trains, and first clears what a killed trainer left (run/checkpoint-folder.ts). Returns the
 * run's previous run.json (a trainer that is gone reported as `killed`).
 */
export async function openRunFolder(folder: RunFolder, options: { resume?: boolean; overwrite?: boolean }, logger: Logger): Promise<RunInfo | undefined> {
  let previous: RunInfo | undefined;
  await checkRunFolder(folder, options);
  if (await folder.exists()) {
    previous = await claimRun(folder, (message) => logger.warn(message));
    if (options.overwrite && !options.resume) {
      await fs.rm(folder.dir, { recursive: true, force: true });
      previous = undefined;
    } else {
      if (previous?.status === 'killed') logger.warn(`the last run was ${describeRunStatus(previous)}; resuming from its newest complete checkpoint`);
      for (const line of await repairRunFolder(folder, previous?.host === undefined || previous.host === trainerIdentity().host)) logger.info(line);
    }
  } else {
    // A start killed before it wrote config.json may have left temporary files: clear them.
    for (const line of await repairRunFolder(folder)) logger.info(line);
  }
  await folder.create();
  return previous;
}

/** Where a run starts from: its model, trainer state and optimizer state, and its metrics so far. */
export interface RunStart {
  model: FamilyModel;
  state: TrainerState;
  savedOptimizers: Record<string, AdamState>;
  /** The checkpoint a resumed run continues from. */
  resumedFrom?: string;
  records: MetricsRecord[];
  /** The training figures of the checkpoint's epoch when its record was never written (validation failed). */
  unreported?: EpochTraining;
  /** A mid-epoch checkpoint's figures of its epoch so far. */
  epochSoFar?: EpochSoFar;
}

/** A new run of a freshly built model. */
export function freshRun(model: FamilyModel): RunStart {
  return { model, state: { epoch: 0, stepInEpoch: 0, step: 0, reason: 'epoch' }, savedOptimizers: {}, records: [] };
}

/**
 * A run continued from its newest whole checkpoint (or `from`, one of its checkpoints), its metrics
 * cut back to the checkpoint's step. A run killed before its first checkpoint starts again from
 * the beginning (`build`), with a warning.
 *
 * @throws AekitError BAD_CONFIG when the model config differs from the run's
 */
export async function resumedRun(folder: RunFolder, config: RunConfig, from: string | undefined, logger: Logger, build: () => FamilyModel): Promise<RunStart> {
  const previous = await folder.readConfig();
  if (JSON.stringify(previous.model) !== JSON.stringify(config.model)) {
    throw new AekitError('BAD_CONFIG', 'the model config differs from the run being resumed; start a new run instead', { where: folder.configPath });
  }
  const newest = from ? undefined : await newestCheckpoint(folder.dir);
  for (const line of newest?.damaged ?? []) logger.warn(`${line}: passed over`);
  const dir = from ?? newest?.dir;
  if (!dir) {
    logger.warn(`${folder.dir} has no complete checkpoint (the run stopped before its first): training it from the beginning`);
    await folder.truncateMetrics(0);
    return freshRun(build());
  }
  const loaded = await loadCheckpoint(dir);
  const dropped = await dropCheckpointsAfter(folder, loaded.trainer.step);
  if (dropped.length > 0) logger.warn(`resuming from ${path.basename(dir)} (step ${loaded.trainer.step}): removed the later checkpoints ${dropped.join(', ')}`);
  const records = await folder.truncateMetrics(loaded.trainer.step);
  const { epochTraining, ...state } = loaded.trainer;
  const reported = records.some((r) => r.kind === 'epoch' && r.epoch === state.epoch);
  return { model: loaded.model, state, savedOptimizers: loaded.optimizers, resumedFrom: loaded.dir, records, unreported: reported ? undefined : epochTraining, epochSoFar: loaded.epochSoFar };
}
