import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isAekitError } from '../../src/core/errors';
import { useBackend } from '../../src/core/tfjs-backend';
import { loadImageFolder } from '../../src/data/image-folder';
import type { DatasetSpec } from '../../src/data/registry';
import { familyNames, getFamily } from '../../src/models';
import { resolveRunConfig } from '../../src/run/config';
import { checkLoadedRunData, checkRunData } from '../../src/run/data-check';
import { train } from '../../src/train/trainer';

const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures', 'data');
const FLAT = path.join(FIXTURES, 'flat-rgb');
const OMNIGLOT = path.join(FIXTURES, 'omniglot-tiny');

/** The registered families, read when this file loads: other suites register probe families while they run. */
const FAMILIES = familyNames();

const folder = (p: string, size = 8, channels: 1 | 3 = 1): DatasetSpec => ({ name: 'folder', path: p, height: size, width: size, channels });

/** A family's tiny run config on `dataset` (a second domain, where the family has one: the same data). */
function runConfig(family: string, dataset: DatasetSpec, dir = os.tmpdir()) {
  const tiny = getFamily(family).tinyConfig;
  const model = { ...tiny, ...('domainB' in tiny ? { domainB: dataset } : {}) };
  const valueRange = getFamily(family).valueRange ?? 'unit';
  return resolveRunConfig({ name: `${family}-flat`, outDir: dir, model, data: { dataset, valueRange }, train: { epochs: 1, batchSize: 4, stepsPerEpoch: 1, backend: 'wasm', validationFraction: 0.25 } });
}

async function refusal(check: () => unknown): Promise<string | undefined> {
  try {
    await check();
    return undefined;
  } catch (error) {
    assert.ok(isAekitError(error) && error.code === 'BAD_DATA', String(error));
    return error.message;
  }
}

describe('run/data-check: a family that needs labels refuses data without them, up front', () => {
  let dir: string;
  let oneClass: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-data-check-'));
    oneClass = path.join(dir, 'one-class');
    await fs.mkdir(path.join(oneClass, 'cats'), { recursive: true });
    for (const file of (await fs.readdir(FLAT)).slice(0, 6)) await fs.copyFile(path.join(FLAT, file), path.join(oneClass, 'cats', file));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('the registry says which families need labels: every conditional model and every classifier', async () => {
    await useBackend('wasm');
    for (const name of FAMILIES) {
      const family = getFamily(name);
      const config = family.configSchema.parse(runConfig(name, folder(OMNIGLOT)).model);
      const model = family.build(config, { height: 8, width: 8, channels: 1, numClasses: 6, valueRange: family.valueRange ?? 'unit' }, 0);
      try {
        if (model.conditional || family.evaluation.metrics.includes('accuracy')) assert.equal(family.needsLabels, true, `${name} learns from labels`);
      } finally {
        model.dispose();
      }
    }
    assert.deepEqual(FAMILIES.filter((n) => getFamily(n).needsLabels), ['cvae', 'classifier']);
  });

  for (const name of FAMILIES) {
    const needs = getFamily(name).needsLabels === true;
    it(`${name}: ${needs ? 'refuses a flat folder and a single class, naming both' : 'takes a flat folder and a single class'}`, async () => {
      const flat = await refusal(() => checkRunData(runConfig(name, folder(FLAT))));
      const single = await refusal(() => checkRunData(runConfig(name, folder(oneClass))));
      assert.equal(await refusal(() => checkRunData(runConfig(name, folder(OMNIGLOT)))), undefined, 'six classes will do');
      if (!needs) {
        assert.deepEqual([flat, single], [undefined, undefined]);
        return;
      }
      assert.equal(
        flat,
        `model family '${name}' (${getFamily(name).description.replace(/\.$/, '')}) needs labelled images of at least 2 classes, but ${FLAT} is unlabelled: ` +
          'a flat folder of images (no class subfolders). Give a folder with one subfolder per class (or labelled IDX files, or a named dataset such as mnist)',
      );
      assert.match(single ?? '', new RegExp(`model family '${name}' .* but ${oneClass} has one class \\('cats'\\); at least 2 are needed`));
      const loaded = await loadImageFolder(FLAT, { channels: 1, height: 8, width: 8 });
      assert.match((await refusal(() => checkLoadedRunData(runConfig(name, folder(FLAT)), loaded))) ?? '', /is unlabelled: its images have no labels/);
    });
  }

  it('every family that does not need labels trains on a flat folder of RGB images', async function () {
    this.timeout(300_000);
    for (const name of FAMILIES.filter((n) => !getFamily(n).needsLabels)) {
      const config = runConfig(name, folder(FLAT, 16, 3), dir);
      await checkRunData(config);
      const result = await train(config);
      assert.equal(result.epochsDone, 1, name);
      assert.equal(result.steps, 1, name);
    }
  });
});
