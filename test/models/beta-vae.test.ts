import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { train } from '../../src/train/trainer';
import { assertExportParity, downsampledMnist, firstAndLast, runRecords } from './helpers';

describe('models/beta-vae', function () {
  this.timeout(60_000);
  let dir: string;
  let dataset: Awaited<ReturnType<typeof downsampledMnist>>;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-beta-vae-'));
    dataset = await downsampledMnist(dir, 14, 1000);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const run = (name: string, model: object, trainSettings: object = {}) =>
    train({
      name,
      outDir: dir,
      model: { family: 'beta-vae', architecture: 'mlp', hiddenSizes: [64], latentSize: 8, ...model },
      data: { dataset },
      train: { epochs: 4, batchSize: 16, learningRate: 3e-3, logEvery: 5, seed: 1, validationFraction: 0.1, checkpointEvery: 100, backend: 'wasm', ...trainSettings },
    });

  it('warms beta up from 0 over warmupSteps (ignoring train.beta), lowers the loss and exports with parity', async () => {
    const result = await run('warmup', { beta: 2, warmupSteps: 100 }, { beta: 0.001 });
    const { steps, epochs } = await runRecords(result.runDir);
    // A step record at step s logs the beta used by step s - 1.
    for (const record of steps) assert.ok(Math.abs(record.terms.beta - 2 * Math.min(1, (record.step - 1) / 100)) < 1e-6, `step ${record.step}: beta ${record.terms.beta}`);
    assert.equal(steps[steps.length - 1].terms.beta, 2);
    const [first, last] = firstAndLast(steps, 'reconstruction');
    assert.ok(last < 0.7 * first, `reconstruction should fall by >30%: ${first} -> ${last}`);
    const validation = epochs[epochs.length - 1].validation;
    for (const key of ['reconstruction', 'kl', 'negElbo', 'activeUnits']) assert.ok(Number.isFinite(validation[key]), `validation ${key}`);
    await assertExportParity(result.runDir, path.join(dir, 'warmup-onnx'), ['encoder', 'decoder']);
  });

  it('free bits cure KL vanishing: at beta 8 the KL collapses without them and every unit stays active with them', async () => {
    const collapsed = (await runRecords((await run('no-free-bits', { beta: 8 })).runDir)).epochs.at(-1)!.validation;
    const kept = (await runRecords((await run('free-bits', { beta: 8, freeBits: 0.5 })).runDir)).epochs.at(-1)!.validation;
    assert.ok(collapsed.activeUnits <= 1 && collapsed.kl < 0.1, `without free bits: ${JSON.stringify(collapsed)}`);
    assert.ok(kept.activeUnits >= 6 && kept.kl > 1, `with free bits 0.5: ${JSON.stringify(kept)}`);
  });
});
