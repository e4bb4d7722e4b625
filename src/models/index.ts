/**
 * The one list of model families. Add a family by adding its file and one line here; the shared
 * family test suite (test/models/families.test.ts) then runs for it automatically.
 */
import { AekitError, unknownName } from '../core/errors';
import { aeFamily } from './ae';
import { classifierFamily } from './classifier';
import { cvaeFamily } from './cvae';
import { daeFamily } from './dae';
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

export type { BaseModelConfig, DataShape, FamilyDefinition, FamilyModel, PartName, TrainingPhase, TrainBatch, StepContext, LossTerms } from './types';
