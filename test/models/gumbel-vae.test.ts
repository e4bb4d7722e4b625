import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, useBackend } from '../../src/core/tfjs-backend';
import { getFamily } from '../../src/models';
import { GumbelVae, gumbelSoftmax, temperatureAt, temperatureSchema } from '../../src/models/gumbel-vae';
import type { GumbelVaeConfig } from '../../src/models/gumbel-vae';
import { train } from '../../src/train/trainer';
import { assertExportParity, downsampledMnist, firstAndLast, runRecords } from './helpers';
import { TEST_SHAPE, tinyBatch } from './describe-family';

describe('models/gumbel-vae', function () {
  this.timeout(60_000);
  let dir: string;
  let dataset: Awaited<ReturnType<typeof downsampledMnist>>;

  before(async () => {
    await useBackend('wasm');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-gumbel-vae-'));
    dataset = await downsampledMnist(dir, 14, 1000);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const config = (name: string, model: object, epochs = 4) => ({
    name,
    outDir: dir,
    model: { family: 'gumbel-vae', architecture: 'mlp', hiddenSizes: [64], categorical: { variables: 10, classes: 10 }, ...model },
    data: { dataset },
    train: { epochs, batchSize: 16, learningRate: 3e-3, logEvery: 5, seed: 1, validationFraction: 0.1, checkpointEvery: 1, backend: 'wasm' },
  });

  it('default schedule: 1.0 at step 0, 0.5 (the floor) from ln(2)/3e-4 = 2311 steps on', () => {
    const schedule = temperatureSchema.parse(undefined);
    assert.deepEqual(schedule, { initial: 1, min: 0.5, rate: 3e-4 });
    assert.equal(temperatureAt(schedule, 0), 1);
    assert.ok(Math.abs(temperatureAt(schedule, 1000) - Math.exp(-0.3)) < 1e-12);
    assert.ok(temperatureAt(schedule, 2310) > 0.5);
    assert.equal(temperatureAt(schedule, 2311), 0.5);
    assert.equal(temperatureAt(schedule, 1e6), 0.5);
  });

  it('the trainer anneals the logged temperature from its start to its floor, and a resumed run continues it', async () => {
    // rate 0.01: the floor 0.5 is reached at step 70 of 200.
    const temperature = { initial: 1, min: 0.5, rate: 0.01 };
    await train(config('anneal', { temperature }, 2));
    const resumed = await train(config('anneal', { temperature }, 4), { resume: true });
    const { steps, epochs } = await runRecords(resumed.runDir);
    assert.ok(steps.length >= 30);
    // A step record at step s logs the temperature used by step s - 1 (float32 in the log).
    for (const record of steps) {
      const expected = Math.max(0.5, Math.exp(-0.01 * (record.step - 1)));
      assert.ok(Math.abs(record.terms.temperature - expected) < 1e-6, `step ${record.step}: temperature ${record.terms.temperature}, expected ${expected}`);
    }
    const temperatures = steps.map((r) => r.terms.temperature);
    assert.ok(temperatures[0] > 0.95, `starts near 1: ${temperatures[0]}`);
    assert.equal(temperatures.at(-1), 0.5, 'ends at the floor');
    assert.ok(temperatures.every((t, i) => i === 0 || t <= temperatures[i - 1]), 'never increases (not even after the resume)');
    assert.ok(new Set(temperatures).size > 5, 'really changes');
    const [first, last] = firstAndLast(steps, 'total');
    assert.ok(last < 0.7 * first, `loss should fall by >30%: ${first} -> ${last}`);
    const validation = epochs.at(-1)!.validation;
    for (const key of ['reconstruction', 'kl', 'negElbo']) assert.ok(Number.isFinite(validation[key]), `validation ${key}`);
    await assertExportParity(resumed.runDir, path.join(dir, 'anneal-onnx'), ['encoder', 'decoder']);
  });

  it('straight-through samples are one-hot forward and still train the encoder', () => {
    tf.tidy(() => {
      const logits = tf.randomNormal([4, 3, 5], 0, 1, 'float32', 1) as tf.Tensor3D;
      const hard = gumbelSoftmax(logits, 0.5, 7, true).arraySync().flat();
      for (const row of hard) assert.deepEqual([...row].sort(), [0, 0, 0, 0, 1]);
      const soft = gumbelSoftmax(logits, 0.5, 7, false).arraySync().flat();
      for (const row of soft) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5 && row.some((v) => v > 0 && v < 1));
      // Same argmax: the hard sample is the soft one rounded.
      soft.forEach((row, i) => assert.equal(hard[i].indexOf(1), row.indexOf(Math.max(...row))));
    });
    const family = getFamily('gumbel-vae');
    const model = family.build(family.configSchema.parse({ ...family.tinyConfig, hard: true }), TEST_SHAPE, 3) as GumbelVae;
    try {
      const encoderVariables = model.parts.encoder.trainableWeights.map((w) => w.read() as tf.Variable);
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => model.phases[0].loss(tinyBatch(TEST_SHAPE), { step: 0, epoch: 0, seed: 1, beta: 0 }).total, encoderVariables);
        // beta 0: the only path to the encoder is through the straight-through samples.
        const norms = encoderVariables.map((v) => tf.norm(grads[v.name]).dataSync()[0]);
        assert.ok(norms.every((n) => n > 0), `encoder gradient norms ${norms}`);
      });
      assert.equal((model.config as GumbelVaeConfig).hard, true);
    } finally {
      model.dispose();
    }
  });

  it('samples the prior as one-hot codes and encodes images to one-hot codes', () => {
    const family = getFamily('gumbel-vae');
    const model = family.build(family.configSchema.parse(family.tinyConfig), TEST_SHAPE, 3) as GumbelVae;
    try {
      tf.tidy(() => {
        for (const codes of [model.samplePrior(50, 4), model.encode(tinyBatch(TEST_SHAPE).x)]) {
          const rows = codes.reshape([-1, 3, 4]).arraySync() as number[][][];
          for (const variables of rows) for (const v of variables) assert.deepEqual([...v].sort(), [0, 0, 0, 1]);
        }
        const counts = (model.samplePrior(400, 5).reshape([-1, 4]).sum(0).arraySync() as number[]).map((c) => c / 1200);
        assert.ok(counts.every((p) => Math.abs(p - 0.25) < 0.05), `uniform prior class frequencies ${counts}`);
      });
    } finally {
      model.dispose();
    }
  });
});
