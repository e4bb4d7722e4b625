/**
 * The table of the ort engine's per-family steps (src/train/engines/ort/steps) against the model
 * registry: the families the engine trains are the registered ones with a step, and the shared
 * family checklist's ort item fails for a family that has neither a step nor an opt-out.
 */
import { strict as assert } from 'node:assert';
import { AekitError } from '../../../../src/core/errors';
import { familyNames } from '../../../../src/models';
import { ortFamilies, ortFamilyStep, stepBuilder } from '../../../../src/train/engines/ort/steps';
import { ortStepCheck } from './family-step-check';

describe('train/engines/ort/steps', () => {
  it('trains exactly the registered families that have a step builder, in registry order', () => {
    assert.deepEqual(
      ortFamilies(),
      familyNames().filter((name) => typeof ortFamilyStep(name) === 'function'),
    );
    assert.ok(ortFamilies().length > 0);
  });

  it("fails the family checklist's ort item for a family added without a step or an opt-out", async () => {
    await assert.rejects(() => ortStepCheck.run('family-added-later'), /family 'family-added-later' has no ort training step/);
  });

  it('refuses to build the step of a family without one, naming the families it trains', () => {
    assert.throws(
      () => stepBuilder('family-added-later'),
      (error: unknown) =>
        error instanceof AekitError && error.code === 'BAD_CONFIG' && error.message.includes("engine 'ort' does not support family 'family-added-later' yet") && error.message.includes(ortFamilies().join(', ')),
    );
  });
});
