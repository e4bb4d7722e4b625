import { familyNames } from '../../src/models';
import { ortStepCheck } from '../train/engines/ort/family-step-check';
import { describeFamily, familyChecks } from './describe-family';

// Stages above models add their items to the checklist (the ort engine: a training step per family).
familyChecks.push(ortStepCheck);

// Every registered family runs the same checklist; adding a family to src/models/index.ts adds it here.
describe('models: shared family checklist', () => {
  for (const name of familyNames()) describeFamily(name);
});
