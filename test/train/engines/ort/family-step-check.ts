/**
 * The ort engine's item of the shared family checklist (test/models/describe-family.ts, added by
 * test/models/families.test.ts): every registered family has an ort training step that compiles
 * for its tiny model, or opts out of the engine with a reason (src/train/engines/ort/steps).
 */
import { strict as assert } from 'node:assert';
import { compilePhases } from '../../../../src/train/engines/ort/compile';
import { ortFamilyStep } from '../../../../src/train/engines/ort/steps';
import { ADAM_DEFAULTS } from '../../../../src/train/optim';
import { tinyModel } from '../../../models/describe-family';

/** The check, as the family checklist runs it: `run(family)` fails for a family without a step or an opt-out. */
export const ortStepCheck = {
  name: 'has an ort training step that compiles, or opts out of the ort engine with a reason',
  async run(family: string): Promise<void> {
    const step = ortFamilyStep(family);
    assert.ok(
      step !== undefined,
      `family '${family}' has no ort training step: add src/train/engines/ort/steps/${family}.ts and its entry in steps/index.ts, or an opt-out there that says why`,
    );
    if (typeof step !== 'function') {
      assert.ok(step.optOut.trim().length > 0, `family '${family}' opts out of the ort engine without a reason`);
      return;
    }
    const model = tinyModel(family);
    try {
      const compiled = compilePhases(model, { batchSize: 2, adam: ADAM_DEFAULTS });
      assert.deepEqual(
        compiled.map((c) => c.phase),
        model.phases.map((p) => p.name),
        'one graph per phase',
      );
      for (const phase of compiled) assert.equal(phase.terms[0]?.name, 'total', `phase '${phase.phase}' logs its total first, as the tfjs loss does`);
    } finally {
      model.dispose();
    }
  },
};
