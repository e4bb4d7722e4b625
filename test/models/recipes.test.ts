import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXPERIMENTS_DIR } from '../../src/core/paths';
import { familyNames } from '../../src/models';
import { resolveRunConfig } from '../../src/run/config';
import { train } from '../../src/train/trainer';

/** The zoo's recipes: one <family>-mnist.json per family, plus the coloured-MNIST study (issue 7, study 4). */
const ZOO_RECIPES = [
  ...familyNames()
    .filter((name) => !['ae', 'vae', 'classifier'].includes(name) && !name.includes('-nan-probe-'))
    .map((name) => `${name}-mnist.json`),
  'vae-colored-mnist.json',
  'gumbel-vae-colored-mnist.json',
  'joint-vae-colored-mnist.json',
];

describe('models: experiment recipes', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-recipes-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  for (const file of ZOO_RECIPES) {
    it(`${file}: resolves, is named after its file, and trains one step with its real architecture`, async () => {
      const recipe = JSON.parse(await fs.readFile(path.join(EXPERIMENTS_DIR, file), 'utf8')) as Record<string, any>;
      const config = resolveRunConfig(recipe, file);
      assert.equal(config.name, path.basename(file, '.json'));
      // Same model, a sliver of the data: 16 images, one step of 4, no validation.
      const shrink = (spec: Record<string, unknown>) => ({ ...spec, limit: 16 });
      const model = recipe.model.domainB ? { ...recipe.model, domainB: shrink(recipe.model.domainB) } : recipe.model;
      const result = await train({
        ...recipe,
        model,
        outDir: dir,
        data: { ...recipe.data, dataset: shrink(recipe.data.dataset) },
        train: { ...recipe.train, epochs: 1, batchSize: 4, stepsPerEpoch: 1, validationFraction: 0, backend: 'wasm' },
      });
      assert.equal(result.steps, 1);
    });
  }
});
