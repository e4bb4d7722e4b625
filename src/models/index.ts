/**
 * The one list of model families. Add a family by adding its file and one line here; the shared
 * family test suite (test/models/families.test.ts) then runs for it automatically.
 */
import { AekitError, unknownName } from '../core/errors';
import { aeFamily } from './ae';
import { betaVaeFamily } from './beta-vae';
import { classifierFamily } from './classifier';
import { cvaeFamily } from './cvae';
import { cycleganFamily } from './cyclegan';
import { daeFamily } from './dae';
import { dcganFamily } from './dcgan';
import { gumbelVaeFamily } from './gumbel-vae';
import { jointVaeFamily } from './joint-vae';
import { sparseAeFamily } from './sparse-ae';
import { vaeFamily } from './vae';
import type { BaseModelConfig, FamilyDefinition } from './types';

const registry = new Map<string, FamilyDefinition<BaseModelConfig>>();

/** Register a family; a duplicate name is an error (tfjs-layers' serialisation rule). */
export function registerFamily<C extends BaseModelConfig>(family: FamilyDefinition<C>): void {
  if (registry.has(family.name)) throw new AekitError('DUPLICATE_NAME', `model family '${family.name}' is already registered`);
  registry.set(family.name, family as unknown as FamilyDefinition<BaseModelConfig>);
}

registerFamily(aeFamily);
registerFamily(daeFamily);
registerFamily(vaeFamily);
registerFamily(cvaeFamily);
registerFamily(classifierFamily);
registerFamily(sparseAeFamily);
registerFamily(betaVaeFamily);
registerFamily(gumbelVaeFamily);
registerFamily(jointVaeFamily);
registerFamily(dcganFamily);
registerFamily(cycleganFamily);

/** Look a family up by its registry key. */
export function getFamily(name: string): FamilyDefinition<BaseModelConfig> {
  const family = registry.get(name);
  if (!family) throw unknownName('model family', name, familyNames());
  return family;
}

/** Registered family names, in registration order. */
export function familyNames(): string[] {
  return [...registry.keys()];
}

export { FAMILY_EVAL_METRICS, PART_NAMES, SAMPLE_PRIORS } from './types';
export type { BaseModelConfig, DataShape, FamilyEvalMetric, FamilyDefinition, FamilyEvaluation, FamilyModel, PartName, SamplePrior, TrainingPhase, TrainBatch, StepContext, LossTerms } from './types';
