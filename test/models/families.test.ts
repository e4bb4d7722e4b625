import { familyNames } from '../../src/models';
import { describeFamily } from './describe-family';

// Every registered family runs the same checklist; adding a family to src/models/index.ts adds it here.
describe('models: shared family checklist', () => {
  for (const name of familyNames()) describeFamily(name);
});
