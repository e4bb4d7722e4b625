/**
 * Runs that fail stay honest: a crash anywhere in an epoch (training steps, validation) leaves
 * run.json at status 'failed' with the error, keeps the last complete checkpoint (an epoch's
 * training is checkpointed before its validation runs), and `resume` continues from it to the
 * weights of a run that never failed. Failures are injected through the trainer's public hooks:
 * the sample-metrics hook (part of validation) and the event callback (part of every step).
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunFolder } from '../../src/run/run-folder';
import type { EpochRecord, StepRecord } from '../../src/run/run-folder';
import { train } from '../../src/train/trainer';
import type { SampleMetricsHook } from '../../src/train/trainer';

let outDir: string;

/** 240 training images in batches of 50: 5 steps per epoch, the last of 40. */
function config(name: string, train_: Record<string, unknown> = {}) {
  return {
    name,
    outDir,
    model: { family: 'vae', architecture: 'mlp', hiddenSizes: [32], latentSize: 4 },
    data: { dataset: { name: 'mnist', limit: 300 } },
    train: { epochs: 3, batchSize: 50, logEvery: 1, seed: 5, validationFraction: 0.2, backend: 'wasm', ...train_ },
  };
}

/** A validation metric that fails at the `failAt`-th epoch it scores (never when undefined). */
function probe(failAt?: number): SampleMetricsHook {
  let calls = 0;
  return {
    count: 4,
    async compute(samples) {
      calls += 1;
      if (calls === failAt) throw new Error(`validation probe failed at epoch ${calls}`);
      return { probe: samples.count };
    },
  };
}

async function runInfo(runDir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(new RunFolder(runDir).runInfoPath, 'utf8'));
}

async function latest(runDir: string): Promise<{ label: string; trainer: Record<string, unknown> }> {
  const pointer = JSON.parse(await fs.readFile(new RunFolder(runDir).latestCheckpointPath, 'utf8'));
  const manifest = JSON.parse(await fs.readFile(path.join(runDir, 'checkpoints', pointer.checkpoint, 'checkpoint.json'), 'utf8'));
  return { label: pointer.checkpoint, trainer: manifest.trainer };
}

async function epochRecords(runDir: string): Promise<EpochRecord[]> {
  return (await new RunFolder(runDir).readMetrics()).filter((r): r is EpochRecord => r.kind === 'epoch');
}

async function finalTensors(runDir: string): Promise<Buffer> {
  return fs.readFile(path.join(runDir, 'checkpoints', 'epoch-0003', 'tensors.bin'));
}

describe('train/trainer: runs that fail', function () {
  this.timeout(300_000);
  let whole: string;

  before(async () => {
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-train-fail-'));
    whole = (await train(config('whole'), { sampleMetrics: probe() })).runDir;
  });
  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  it("a crash in an epoch's validation: run.json says 'failed' with the error, the epoch's training is saved, and resume completes it", async () => {
    await assert.rejects(train(config('validation-crash'), { sampleMetrics: probe(2) }), /validation probe failed at epoch 2/);
    const runDir = path.join(outDir, 'validation-crash');
    const info = await runInfo(runDir);
    assert.equal(info.status, 'failed');
    assert.deepEqual(info.error, { message: 'validation probe failed at epoch 2' });
    assert.ok(typeof info.finishedAt === 'string');
    assert.equal(info.checkpoint, path.join(runDir, 'checkpoints', 'epoch-0002'));
    // Epoch 2 trained, was checkpointed before its validation, and has no record yet.
    const saved = await latest(runDir);
    assert.equal(saved.label, 'epoch-0002');
    assert.equal(saved.trainer.epoch, 2);
    assert.equal(saved.trainer.stepInEpoch, 0);
    const trained = saved.trainer.epochTraining as { train: Record<string, number> };
    assert.ok(trained && Number.isFinite(trained.train.total));
    assert.deepEqual((await epochRecords(runDir)).map((r) => r.epoch), [1]);

    const resumed = await train(config('validation-crash'), { resume: true, sampleMetrics: probe() });
    assert.equal(resumed.epochsDone, 3);
    const records = await epochRecords(runDir);
    assert.deepEqual(records.map((r) => r.epoch), [1, 2, 3], 'the failed epoch is reported once, then training continues');
    assert.deepEqual(records[1].train, trained.train, "epoch 2's training figures come from its checkpoint");
    assert.equal(records[1].validation.probe, 4);
    const reference = await epochRecords(whole);
    assert.deepEqual(records.map((r) => r.validation), reference.map((r) => r.validation), 'validation as in a run that never failed');
    assert.ok((await finalTensors(runDir)).equals(await finalTensors(whole)), 'the same weights as a run that never failed');
    assert.equal((await runInfo(runDir)).status, 'finished');
  });

  it('a crash in validation between checkpoints (checkpointEvery 2) still saves that epoch', async () => {
    await assert.rejects(train(config('between', { checkpointEvery: 2 }), { sampleMetrics: probe(1) }), /validation probe failed at epoch 1/);
    const runDir = path.join(outDir, 'between');
    const saved = await latest(runDir);
    assert.equal(saved.label, 'epoch-0001');
    assert.equal(saved.trainer.epoch, 1);
    assert.equal((await runInfo(runDir)).status, 'failed');
    const resumed = await train(config('between', { checkpointEvery: 2 }), { resume: true, sampleMetrics: probe() });
    assert.deepEqual((await epochRecords(resumed.runDir)).map((r) => r.epoch), [1, 2, 3]);
    assert.ok((await finalTensors(resumed.runDir)).equals(await finalTensors(whole)));
  });

  it('a crash in the middle of an epoch: the last complete checkpoint is kept and resume matches a run that never failed', async () => {
    const crashAt = 7; // epoch 2, its second step
    await assert.rejects(
      train(config('step-crash'), {
        sampleMetrics: probe(),
        onEvent: (event) => {
          if (event.type === 'step' && event.step === crashAt) throw new Error(`lost the device at step ${crashAt}`);
        },
      }),
      /lost the device at step 7/,
    );
    const runDir = path.join(outDir, 'step-crash');
    const info = await runInfo(runDir);
    assert.equal(info.status, 'failed');
    assert.deepEqual(info.error, { message: 'lost the device at step 7' });
    assert.equal((await latest(runDir)).label, 'epoch-0001');
    // The steps logged before the crash are kept (resume cuts them back to the checkpoint).
    const steps = (await new RunFolder(runDir).readMetrics()).filter((r): r is StepRecord => r.kind === 'step');
    assert.deepEqual(steps.map((r) => r.step), [1, 2, 3, 4, 5, 6]);

    const resumed = await train(config('step-crash'), { resume: true, sampleMetrics: probe() });
    assert.equal(resumed.steps, 15);
    assert.deepEqual((await epochRecords(runDir)).map((r) => r.epoch), [1, 2, 3]);
    assert.ok((await finalTensors(runDir)).equals(await finalTensors(whole)));
  });

  it('a run that cannot start makes nothing: data its family cannot learn from, a model that does not fit the images; an overwritten run survives such a start', async () => {
    const oneClass = path.join(outDir, 'one-class');
    await fs.mkdir(path.join(oneClass, 'cats'), { recursive: true });
    const flat = path.resolve(__dirname, '..', '..', 'fixtures', 'data', 'flat-rgb');
    for (const file of (await fs.readdir(flat)).slice(0, 4)) await fs.copyFile(path.join(flat, file), path.join(oneClass, 'cats', file));
    const folder = (size: number) => ({ dataset: { name: 'folder', path: oneClass, height: size, width: size, channels: 3 } });
    // The library's train() refuses as the CLI does (the registry's needsLabels), not with tf.oneHot's "depth must be >=2".
    await assert.rejects(train({ ...config('classifier-one-class'), model: { family: 'classifier', convChannels: [4], featureSize: 4 }, data: folder(8) }), (error: Error) => {
      assert.match(error.message, new RegExp(`^model family 'classifier' \\(.*\\) needs labelled images of at least 2 classes, but ${oneClass} has one class \\('cats'\\)`));
      return true;
    });
    await assert.rejects(train({ ...config('conv-ae-odd'), model: { family: 'ae', convChannels: [4, 8], latentSize: 2 }, data: folder(10) }), /needs image height and width divisible by 4, found 10x10/);
    for (const name of ['classifier-one-class', 'conv-ae-odd']) assert.deepEqual(await fs.readdir(outDir).then((names) => names.filter((n) => n === name)), [], `${name} left a run folder`);

    // --overwrite replaces a run only once the new one has started.
    await assert.rejects(train({ ...config('whole'), model: { family: 'ae', convChannels: [4, 8], latentSize: 2 }, data: folder(10) }, { overwrite: true }), /divisible by 4/);
    assert.equal((await runInfo(whole)).status, 'finished');
    assert.equal((await latest(whole)).label, 'epoch-0003');
  });
});
