/**
 * The ort engine's training step of every model family, by registry key (src/models/index.ts):
 * the family's step builder (./<family>.ts), or an explicit opt-out that says why the engine does
 * not train it. Which families the engine trains is read off the registry through this table, and
 * the shared family checklist (test/models/describe-family.ts) fails for a registered family that
 * has neither, so a family cannot be added without deciding how (or whether) ort trains it.
 *
 * Entries are by registry key only: a family registered as a variant of another (which may change
 * the loss) gets no step from its parent's entry, so it is refused rather than trained wrongly.
 */
import { AekitError } from '../../../../core/errors';
import { familyNames } from '../../../../models';
import { aeStep } from './ae';
import { betaVaeStep } from './beta-vae';
import type { StepBuilder } from './builder';
import { classifierStep } from './classifier';
import { cvaeStep } from './cvae';
import { cycleganStep } from './cyclegan';
import { daeStep } from './dae';
import { dcganStep } from './dcgan';
import { gumbelVaeStep } from './gumbel-vae';
import { jointVaeStep } from './joint-vae';
import { sparseAeStep } from './sparse-ae';
import { vaeStep } from './vae';

/** A family the ort engine leaves to tfjs, and why (shown in the error a run with `--engine ort` gets). */
export interface OrtOptOut {
  readonly optOut: string;
}

/** A family's entry: its step builder, or an opt-out. */
export type OrtFamilyStep = StepBuilder | OrtOptOut;

const FAMILY_STEPS: ReadonlyMap<string, OrtFamilyStep> = new Map<string, OrtFamilyStep>([
  ['ae', aeStep],
  ['dae', daeStep],
  ['vae', vaeStep],
  ['cvae', cvaeStep],
  ['classifier', classifierStep],
  ['sparse-ae', sparseAeStep],
  ['beta-vae', betaVaeStep],
  ['gumbel-vae', gumbelVaeStep],
  ['joint-vae', jointVaeStep],
  ['dcgan', dcganStep],
  ['cyclegan', cycleganStep],
]);

/** A family's entry; undefined for a family that has none (added to the registry without one). */
export function ortFamilyStep(family: string): OrtFamilyStep | undefined {
  return FAMILY_STEPS.get(family);
}

/** Registered families that `--engine ort` trains, in registration order. */
export function ortFamilies(): string[] {
  return familyNames().filter((name) => typeof ortFamilyStep(name) === 'function');
}

/**
 * The step builder of a family.
 *
 * @throws AekitError BAD_CONFIG for a family the engine does not train
 */
export function stepBuilder(family: string): StepBuilder {
  const step = ortFamilyStep(family);
  if (typeof step !== 'function') throw unsupportedFamily(family);
  return step;
}

/** The error for a family the engine does not train (with the reason when the family opted out). */
export function unsupportedFamily(family: string): AekitError {
  const step = ortFamilyStep(family);
  const why = step !== undefined && typeof step !== 'function' ? `: ${step.optOut}` : ' yet';
  return new AekitError('BAD_CONFIG', `engine 'ort' does not support family '${family}'${why} (it trains: ${ortFamilies().join(', ')}); use --engine tfjs`, {
    where: 'train.engine',
  });
}
