/**
 * A run's data checked against what its family needs, before anything is trained. The fact comes
 * from the family's registry entry (`needsLabels`), never from a list of family names here.
 */
import { datasetClasses, loadedClasses, requireLabels } from '../data/labels';
import type { ImageDataset } from '../data/types';
import { getFamily } from '../models';
import type { RunConfig } from './config';

function consumer(family: string): string {
  return `model family '${family}' (${getFamily(family).description.replace(/\.$/, '')})`;
}

/**
 * Refuses a run whose family needs labels (a conditional model, a classifier) on data without
 * them: a flat folder, a single class folder, an IDX label file with one label. Cheap: reads a
 * folder's layout or a label file, decodes no image, so it runs before a long job starts.
 * @throws AekitError BAD_DATA naming the family, the data and what would do; the loaders' errors
 *   for a missing folder or label file.
 */
export async function checkRunData(config: RunConfig): Promise<void> {
  if (!getFamily(config.model.family).needsLabels) return;
  requireLabels(await datasetClasses(config.data.dataset), consumer(config.model.family));
}

/**
 * {@link checkRunData} on data already loaded (what the trainer holds after `loadDataset`), for
 * callers that skip the up-front check.
 * @throws AekitError BAD_DATA as {@link checkRunData}.
 */
export function checkLoadedRunData(config: RunConfig, dataset: ImageDataset): void {
  if (!getFamily(config.model.family).needsLabels) return;
  requireLabels(loadedClasses(dataset), consumer(config.model.family));
}
