import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../../src/core/errors';
import { decodePng } from '../../src/core/image-io';
import { train } from '../../src/train/trainer';
import type { TrainEvent } from '../../src/train/trainer';
import { RunFolder } from '../../src/run/run-folder';
import type { EpochRecord, StepRecord } from '../../src/run/run-folder';

let outDir: string;

function config(name: string, overrides: { model?: object; train?: object; limit?: number } = {}) {
  return {
    name,
    outDir,
    model: { family: 'vae', architecture: 'mlp', hiddenSizes: [64], latentSize: 4, ...overrides.model },
    data: { dataset: { name: 'mnist', limit: overrides.limit ?? 300 } },
    train: { epochs: 2, batchSize: 50, logEvery: 1, seed: 3, validationFraction: 0.2, backend: 'wasm', ...overrides.train },
  };
}

async function tensorsOf(runDir: string, checkpoint: string): Promise<Buffer> {
  return fs.readFile(path.join(runDir, 'checkpoints', checkpoint, 'tensors.bin'));
}

describe('train/trainer', function () {
  this.timeout(300_000);

  before(async () => {
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-train-'));
  });
  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  it('lowers the loss of a VAE on 1000 MNIST images and fills the run folder', async () => {
    const events: TrainEvent[] = [];
    const result = await train(config('falls', { limit: 1000, train: { epochs: 3, batchSize: 32, validationFraction: 0.1 } }), { onEvent: (e) => events.push(e) });
    const folder = new RunFolder(result.runDir);
    const records = await folder.readMetrics();
    const steps = records.filter((r): r is StepRecord => r.kind === 'step');
    const epochs = records.filter((r): r is EpochRecord => r.kind === 'epoch');
    assert.equal(epochs.length, 3);
    const firstLoss = steps.slice(0, 3).reduce((s, r) => s + r.terms.total, 0) / 3;
    const lastLoss = epochs[2].train.total;
    assert.ok(lastLoss < 0.6 * firstLoss, `training loss should fall by >40%: first ${firstLoss}, last epoch ${lastLoss}`);
    assert.ok(epochs[2].validation.negElbo < epochs[0].validation.negElbo, 'validation ELBO should improve');
    for (const key of ['total', 'reconstruction', 'kl', 'gradNorm']) assert.ok(key in steps[0].terms, `step record lacks ${key}`);
    assert.ok(steps[0].samplesPerSecond > 0 && steps[0].lr === 1e-3);

    const saved = JSON.parse(await fs.readFile(folder.configPath, 'utf8'));
    assert.equal(saved.model.reduction, 'sum', 'config.json holds the fully resolved config');
    assert.equal(saved.data.valueRange, 'unit');
    const grid = decodePng(await fs.readFile(path.join(folder.samplesDir, 'epoch-0003.png')));
    assert.ok(grid.width > 100 && grid.height > 100);
    assert.ok(decodePng(await fs.readFile(folder.lossCurvePath)).width > 0);
    const latest = JSON.parse(await fs.readFile(path.join(result.runDir, 'checkpoints', 'latest.json'), 'utf8'));
    assert.equal(latest.checkpoint, 'epoch-0003');
    assert.ok(events.some((e) => e.type === 'start' && e.backend.name === 'wasm'));
  });

  it('resuming from an epoch checkpoint gives the same weights as an uninterrupted run', async () => {
    const whole = await train(config('whole'));
    await train(config('split', { train: { epochs: 1 } }));
    const resumed = await train(config('split', { train: { epochs: 2 } }), { resume: true });
    assert.equal(resumed.epochsDone, 2);
    assert.ok((await tensorsOf(whole.runDir, 'epoch-0002')).equals(await tensorsOf(resumed.runDir, 'epoch-0002')), 'weights and Adam state must be bit-identical');
    const records = await new RunFolder(resumed.runDir).readMetrics();
    assert.equal(records.filter((r) => r.kind === 'epoch').length, 2, 'metrics.jsonl continues without duplicates');
  });

  it('an interrupt mid-epoch writes a checkpoint, and resuming it matches the uninterrupted run', async () => {
    const controller = new AbortController();
    let steps = 0;
    const first = await train(config('interrupted'), {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'step' && ++steps === 5) controller.abort();
      },
    });
    assert.equal(first.interrupted, true);
    assert.equal(first.steps, 5);
    const resumed = await train(config('interrupted'), { resume: true });
    assert.equal(resumed.interrupted, false);
    assert.ok((await tensorsOf(path.join(outDir, 'whole'), 'epoch-0002')).equals(await tensorsOf(resumed.runDir, 'epoch-0002')));
  });

  it('refuses to overwrite a run unless asked', async () => {
    await assert.rejects(train(config('whole')), (e: AekitError) => e.code === 'ALREADY_EXISTS' && e.message.includes('--resume'));
  });

  it('stops on a non-finite loss, naming the step and term, and keeps the last good weights', async () => {
    // A learning rate this large blows the log-variance up within a few steps: exp(logvar) -> Inf.
    const run = train(config('nan', { model: { architecture: 'mlp' }, train: { learningRate: 1e4, epochs: 3 } }));
    await assert.rejects(run, (e: AekitError) => {
      assert.equal(e.code, 'NON_FINITE_LOSS');
      assert.match(e.message, /step \d+ \(epoch \d\): (loss term '\w+' is (NaN|Infinity)|gradient norm)/);
      assert.match(e.message, /last-good/);
      return true;
    });
    const lastGood = JSON.parse(await fs.readFile(path.join(outDir, 'nan', 'checkpoints', 'last-good', 'checkpoint.json'), 'utf8'));
    assert.equal(lastGood.trainer.reason, 'last-good');
    const values = new Float32Array((await fs.readFile(path.join(outDir, 'nan', 'checkpoints', 'last-good', 'tensors.bin'))).buffer.slice(0));
    assert.ok(values.every(Number.isFinite), 'the saved weights are finite');
  });

  it('rejects a bad config with the field named', async () => {
    await assert.rejects(train({ ...config('bad'), model: { family: 'vae', latentSize: 'big' } }), /model\.latentSize/);
    await assert.rejects(train({ ...config('bad'), model: { family: 'vae', latentSzie: 4 } }), /unknown field.*model\.latentSzie/);
    await assert.rejects(train({ ...config('bad'), model: { family: 'nope' } }), /unknown model family 'nope'; expected one of: ae, dae, vae/);
    await assert.rejects(train({ ...config('bad'), data: { dataset: { name: 'mnist' }, valueRange: 'symmetric' } }), /bce.*valueRange/);
  });
});
