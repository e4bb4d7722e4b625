/**
 * The ort engine against the tfjs engine through the real trainer: from the same seed (so the same
 * initial weights, batches and noise), training steps on both give the same weights, BatchNorm
 * statistics and Adam moments; the run folders have the same contents; runs switch engines on
 * resume; a family or layer the engine cannot train gets a clear error and `auto` falls back to
 * tfjs; the engine also runs on onnxruntime-web. The parity cases come from the model registry:
 * every registered family the engine trains has at least one.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/log';
import { tf } from '../../../src/core/tfjs-backend';
import type { BackendChoice } from '../../../src/core/tfjs-backend';
import { familyNames, getFamily } from '../../../src/models';
import type { FamilyModel } from '../../../src/models';
import { createEngine, ortFamilies, resolveEngine } from '../../../src/train/engines';
import type { EngineSetup } from '../../../src/train/engines';
import { train } from '../../../src/train/trainer';
import { RunFolder } from '../../../src/run/run-folder';
import type { StepRecord } from '../../../src/run/run-folder';
import { checkpointTensors } from './checkpoint-tensors';
import { relativeDifference } from './helpers';

/** The criterion: updated weights agree to 1e-4, relative (per tensor, in L2 norm). */
const WEIGHT_TOLERANCE = 1e-4;
/** Loss terms of a step agree to float32 rounding of differently ordered sums. */
const TERM_TOLERANCE = 1e-5;
/** Ill-conditioned models: the ort engine may differ from tfjs-wasm by this multiple of tfjs-cpu's difference. */
const BACKEND_SPREAD_FACTOR = 4;
/**
 * Looser for terms that are differences of large sums: the gradient norm (as the weights), and
 * dcgan's diversity, sqrt(|a|^2 + |b|^2 - 2 a.b) over pairs of near-identical fakes.
 */
const TERM_TOLERANCES: Readonly<Record<string, number>> = { gradNorm: WEIGHT_TOLERANCE, diversity: 1e-3 };

let outDir: string;

function runConfig(name: string, model: Record<string, unknown>, train: Record<string, unknown> = {}, data: Record<string, unknown> = {}) {
  return {
    name,
    outDir,
    model,
    data: { dataset: { name: 'mnist', limit: 160 }, ...data },
    train: { epochs: 1, batchSize: 16, stepsPerEpoch: 2, logEvery: 1, seed: 7, validationFraction: 0, backend: 'wasm', ...train },
  };
}

async function stepRecords(runDir: string): Promise<StepRecord[]> {
  return (await new RunFolder(runDir).readMetrics()).filter((r): r is StepRecord => r.kind === 'step');
}

/** A parity case: a label, the model config, and overrides of the run's train and data settings. */
type ParityCase = [string, Record<string, unknown>, Record<string, unknown>?, Record<string, unknown>?];

/** Marks a family whose parity is measured against the spread of tfjs's own backends (its own @slow test below). */
const BACKEND_SPREAD = 'backend-spread';

/**
 * The configurations each family is compared on, by registry key: variants worth checking apart
 * (architectures, options). A family the engine trains that has no entry is compared on its
 * registry `tinyConfig` (see {@link parityCases}), so a new family is covered without a line here.
 */
const PARITY_VARIANTS: Readonly<Record<string, ParityCase[] | typeof BACKEND_SPREAD>> = {
  vae: [
    ['vae mlp', { family: 'vae', architecture: 'mlp', hiddenSizes: [32], latentSize: 4 }],
    ['vae conv', { family: 'vae', convChannels: [4, 8], latentSize: 3 }],
    // BatchNorm and clipping are checked apart: with both, the gradient of the first BatchNorm's beta
    // at step 2 is a small residual (the next BatchNorm removes most of it) whose float32 value
    // differs by a few % between any two summation orders; tfjs's own cpu and wasm backends differ
    // from each other there exactly as much as ort differs from wasm (scratch/ort-engine/bnprobe3.ts).
    ['vae conv, BatchNorm + leakyRelu', { family: 'vae', convChannels: [4, 8], latentSize: 3, batchNorm: true, activation: 'leakyRelu' }],
    ['vae conv, clipped gradients, KL warm-up', { family: 'vae', convChannels: [4, 8], latentSize: 3, activation: 'leakyRelu' }, { clipNorm: 5, betaWarmupEpochs: 1, beta: 0.5 }],
    ['vae mlp, elu, tanh output, mse mean', { family: 'vae', architecture: 'mlp', hiddenSizes: [24, 12], latentSize: 2, activation: 'elu', reconstruction: 'mse', reduction: 'mean' }, {}, { valueRange: 'symmetric' }],
  ],
  ae: [
    ['ae conv', { family: 'ae', convChannels: [4, 8], latentSize: 3 }],
    ['ae mlp, BatchNorm', { family: 'ae', architecture: 'mlp', hiddenSizes: [16], latentSize: 3, batchNorm: true }],
  ],
  dae: [
    ['dae gaussian', { family: 'dae', convChannels: [4, 8], latentSize: 3, noise: { kind: 'gaussian', level: 0.3 } }],
    ['dae masking', { family: 'dae', architecture: 'mlp', hiddenSizes: [16], latentSize: 3, noise: { kind: 'masking', level: 0.4 } }],
    ['dae salt-and-pepper, symmetric range', { family: 'dae', architecture: 'mlp', hiddenSizes: [16], latentSize: 3, reconstruction: 'mse', noise: { kind: 'salt-and-pepper', level: 0.4 } }, {}, { valueRange: 'symmetric' }],
  ],
  cvae: [
    ['cvae conv', { family: 'cvae', convChannels: [4, 8], latentSize: 3 }],
  ],
  'beta-vae': [
    ['beta-vae mlp, warm-up, free bits', { family: 'beta-vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 3, beta: 2, warmupSteps: 2, freeBits: 0.05 }],
    ['beta-vae conv', { family: 'beta-vae', convChannels: [4, 8], latentSize: 3 }],
  ],
  'gumbel-vae': [
    ['gumbel-vae mlp', { family: 'gumbel-vae', architecture: 'mlp', hiddenSizes: [16], categorical: { variables: 3, classes: 4 }, temperature: { rate: 0.3 } }],
    ['gumbel-vae conv', { family: 'gumbel-vae', convChannels: [4, 8], categorical: { variables: 2, classes: 3 } }],
  ],
  'joint-vae': [
    ['joint-vae mlp', { family: 'joint-vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 2, categorical: { variables: 2, classes: 3 } }],
    ['joint-vae conv, annealed temperature', { family: 'joint-vae', convChannels: [4, 8], latentSize: 2, temperature: { initial: 1, min: 0.5, rate: 0.3 } }],
  ],
  dcgan: [
    ['dcgan (two phases, BatchNorm in both networks)', { family: 'dcgan', latentSize: 8, generatorFeatures: 4, discriminatorFeatures: 4 }, {}, { valueRange: 'symmetric' }],
  ],
  'sparse-ae': [
    ['sparse-ae conv, KL sparsity', { family: 'sparse-ae', convChannels: [4, 8], latentSize: 3 }],
    ['sparse-ae mlp, L1 sparsity', { family: 'sparse-ae', architecture: 'mlp', hiddenSizes: [16], latentSize: 3, sparsity: { kind: 'l1' } }],
  ],
  classifier: [
    ['classifier (BatchNorm, max-pooling)', { family: 'classifier', convChannels: [4, 8], featureSize: 8 }],
    // The shipped classifiers' setting: both engines read the momentum from the built layer.
    ['classifier, batchNormMomentum 0.01 (the shipped recipe)', { family: 'classifier', convChannels: [4, 8], featureSize: 8, batchNormMomentum: 0.01 }],
  ],
  cyclegan: BACKEND_SPREAD,
};

/** The parity cases of every registered family the ort engine trains, in registry order. */
function parityCases(): ParityCase[] {
  return ortFamilies().flatMap((family): ParityCase[] => {
    const variants = PARITY_VARIANTS[family];
    if (variants === BACKEND_SPREAD) return [];
    if (variants) return variants;
    const { tinyConfig, valueRange } = getFamily(family);
    return [[`${family} (its tiny config)`, tinyConfig, {}, valueRange ? { valueRange } : {}]];
  });
}

describe('train/engines: ort engine vs tfjs engine', function () {
  this.timeout(300_000);

  before(async () => {
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-engines-'));
  });
  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  it('has parity variants only for families the engine trains, each variant of its own family', () => {
    for (const [family, variants] of Object.entries(PARITY_VARIANTS)) {
      assert.ok(ortFamilies().includes(family), `parity variants of '${family}', which the ort engine does not train`);
      if (variants !== BACKEND_SPREAD) for (const [label, model] of variants) assert.equal(model.family, family, label);
    }
  });

  for (const [label, model, trainSettings, data] of parityCases()) {
    it(`${label}: two steps give the same weights, statistics and Adam moments`, async () => {
      const slug = label.replace(/[^a-z0-9]+/gi, '-');
      const reference = await train(runConfig(`${slug}-tfjs`, model, { ...trainSettings, engine: 'tfjs' }, data));
      const candidate = await train(runConfig(`${slug}-ort`, model, { ...trainSettings, engine: 'ort' }, data));
      assert.equal(reference.engine, 'tfjs');
      assert.equal(candidate.engine, 'ort');
      const a = await checkpointTensors(reference.runDir);
      const b = await checkpointTensors(candidate.runDir);
      assert.deepEqual(b.steps, a.steps, 'Adam step counts');
      assert.deepEqual([...b.tensors.keys()], [...a.tensors.keys()], 'same tensors in the same order');
      for (const [name, expected] of a.tensors) {
        const diff = relativeDifference(b.tensors.get(name)!, expected);
        assert.ok(diff <= WEIGHT_TOLERANCE, `${name}: relative difference ${diff.toExponential(2)} > ${WEIGHT_TOLERANCE}`);
      }
      const [stepsA, stepsB] = [await stepRecords(reference.runDir), await stepRecords(candidate.runDir)];
      assert.equal(stepsB.length, stepsA.length);
      stepsA.forEach((ra, i) => {
        assert.deepEqual(Object.keys(stepsB[i].terms), Object.keys(ra.terms), 'same logged terms');
        for (const [k, v] of Object.entries(ra.terms)) {
          if (k.split('.').pop() === 'accuracy') {
            // Accuracy is a count: an untrained classifier has near-tied logits, and a difference
            // of 1e-7 between engines may flip one argmax. Allow one image of the batch.
            assert.ok(Math.abs(stepsB[i].terms[k] - v) <= 1 / 16 + 1e-9, `step ${ra.step} ${k}: tfjs ${v}, ort ${stepsB[i].terms[k]}`);
            continue;
          }
          const rel = Math.abs(stepsB[i].terms[k] - v) / Math.max(1e-6, Math.abs(v));
          assert.ok(rel <= (TERM_TOLERANCES[k.split('.').pop()!] ?? TERM_TOLERANCE), `step ${ra.step} ${k}: tfjs ${v}, ort ${stepsB[i].terms[k]}`);
        }
      });
    });
  }

  // cyclegan's parity case (PARITY_VARIANTS: BACKEND_SPREAD).
  it("@slow cyclegan (two phases, second domain): one step agrees with tfjs as closely as tfjs's own backends agree", async () => {
    // CycleGAN's convolutions keep their bias before BatchNorm, which removes it: those biases'
    // gradients are zero up to rounding, Adam turns the rounding into full-size steps, and the
    // networks downstream inherit them. tfjs's cpu and wasm backends then disagree by up to ~1e-2
    // on some tensors, so the ort engine is held to that spread instead of 1e-4 (which still binds
    // wherever the two tfjs backends agree).
    // Batches of 4: one step on tfjs's cpu backend takes ~30 s at the other tests' 16.
    const model = { family: 'cyclegan', domainB: { name: 'colored-mnist', colors: 'cool', limit: 8 }, filters: 4, downsamplings: 1, residualBlocks: 1, discriminatorFilters: 4, discriminatorLayers: 1 };
    const data = { dataset: { name: 'colored-mnist', colors: 'warm', limit: 8 }, valueRange: 'symmetric' };
    const run = async (name: string, engine: string, backend: string) => checkpointTensors((await train(runConfig(name, model, { engine, backend, batchSize: 4, stepsPerEpoch: 1 }, data))).runDir);
    const wasm = await run('cyclegan-tfjs-wasm', 'tfjs', 'wasm');
    const ort = await run('cyclegan-ort', 'ort', 'wasm');
    const cpu = await run('cyclegan-tfjs-cpu', 'tfjs', 'cpu');
    assert.deepEqual(ort.steps, wasm.steps, 'Adam step counts of both phases');
    for (const [name, expected] of wasm.tensors) {
      const diff = relativeDifference(ort.tensors.get(name)!, expected);
      const spread = relativeDifference(cpu.tensors.get(name)!, expected);
      assert.ok(diff <= Math.max(WEIGHT_TOLERANCE, BACKEND_SPREAD_FACTOR * spread), `${name}: ort vs tfjs-wasm ${diff.toExponential(2)}, tfjs-cpu vs tfjs-wasm ${spread.toExponential(2)}`);
    }
  });

  it('runs on onnxruntime-web (wasm) as well: vae mlp and conv steps agree with tfjs', async () => {
    for (const [slug, model] of [
      ['web-mlp', { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 3 }],
      ['web-conv', { family: 'vae', convChannels: [4, 8], latentSize: 3 }],
    ] as const) {
      const reference = await checkpointTensors((await train(runConfig(`${slug}-tfjs`, model, { engine: 'tfjs' }))).runDir);
      const candidate = await checkpointTensors((await train(runConfig(`${slug}-ort-web`, model, { engine: 'ort', ortRuntime: 'ort-web-wasm' }))).runDir);
      assert.deepEqual(candidate.steps, reference.steps);
      for (const [name, expected] of reference.tensors) {
        const diff = relativeDifference(candidate.tensors.get(name)!, expected);
        assert.ok(diff <= WEIGHT_TOLERANCE, `${slug} ${name}: relative difference ${diff.toExponential(2)}`);
      }
    }
  });

  it('writes the same run folder as the tfjs engine, and records the engine', async () => {
    const model = { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 2 };
    const settings = { epochs: 2, stepsPerEpoch: 3, validationFraction: 0.2 };
    const a = await train(runConfig('folder-tfjs', model, { ...settings, engine: 'tfjs' }));
    const b = await train(runConfig('folder-ort', model, { ...settings, engine: 'ort' }));
    const listing = async (dir: string) => (await fs.readdir(dir, { recursive: true })).map(String).sort();
    assert.deepEqual(await listing(b.runDir), await listing(a.runDir));
    const info = JSON.parse(await fs.readFile(new RunFolder(b.runDir).runInfoPath, 'utf8'));
    assert.equal(info.engine, 'ort');
    const config = JSON.parse(await fs.readFile(new RunFolder(b.runDir).configPath, 'utf8'));
    assert.equal(config.train.engine, 'ort');
    // Validation runs on the synchronised tfjs model: its figures match the tfjs run's.
    const va = a.lastEpoch!.validation;
    const vb = b.lastEpoch!.validation;
    for (const k of Object.keys(va)) assert.ok(Math.abs(va[k] - vb[k]) <= 1e-3 * Math.abs(va[k]), `validation ${k}: ${va[k]} vs ${vb[k]}`);
  });

  it('a run switches engines on resume (checkpoints are engine-independent)', async () => {
    const model = { family: 'vae', convChannels: [4, 8], latentSize: 3 };
    const whole = await train(runConfig('switch-whole', model, { epochs: 2, engine: 'tfjs' }));
    await train(runConfig('switch', model, { epochs: 1, engine: 'tfjs' }));
    const resumed = await train(runConfig('switch', model, { epochs: 2, engine: 'ort' }), { resume: true });
    assert.equal(resumed.engine, 'ort');
    assert.equal(resumed.steps, whole.steps);
    const a = await checkpointTensors(whole.runDir);
    const b = await checkpointTensors(resumed.runDir);
    assert.deepEqual(b.steps, a.steps);
    for (const [name, expected] of a.tensors) {
      const diff = relativeDifference(b.tensors.get(name)!, expected);
      assert.ok(diff <= WEIGHT_TOLERANCE, `${name} after tfjs -> ort resume: ${diff.toExponential(2)}`);
    }
    // And back: ort -> tfjs.
    await train(runConfig('switch-back', model, { epochs: 1, engine: 'ort' }));
    const back = await train(runConfig('switch-back', model, { epochs: 2, engine: 'tfjs' }), { resume: true });
    const c = await checkpointTensors(back.runDir);
    for (const [name, expected] of a.tensors) {
      const diff = relativeDifference(c.tensors.get(name)!, expected);
      assert.ok(diff <= WEIGHT_TOLERANCE, `${name} after ort -> tfjs resume: ${diff.toExponential(2)}`);
    }
  });

  it('stops on a non-finite loss with the last good weights saved, like the tfjs engine', async () => {
    const model = { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 2 };
    const settings = { engine: 'ort', learningRate: 1e6, stepsPerEpoch: 8 };
    await assert.rejects(
      () => train(runConfig('nan-ort', model, settings)),
      (error: unknown) => error instanceof AekitError && error.code === 'NON_FINITE_LOSS' && /last-good/.test(error.message),
    );
    const saved = await checkpointTensors(path.join(outDir, 'nan-ort'));
    for (const [name, values] of saved.tensors) assert.ok(values.every(Number.isFinite), `${name} holds the last good (finite) values`);
  });

  it("refuses a family it has no step for with a clear error; 'auto' then picks tfjs, and ort only on CPU backends", async () => {
    // Every registered family is trained today; a family added later starts without a step.
    const family = familyNames().find((f) => !ortFamilies().includes(f)) ?? 'family-added-later';
    const wasm: BackendChoice = { name: 'wasm', tfjsName: 'wasm', skipped: [] };
    assert.throws(
      () => resolveEngine('ort', family, wasm),
      (error: unknown) => error instanceof AekitError && error.code === 'BAD_CONFIG' && error.message.includes(`engine 'ort' does not support family '${family}' yet`) && error.message.includes('--engine tfjs'),
    );
    assert.equal(resolveEngine('auto', family, wasm), 'tfjs');
    assert.equal(resolveEngine('auto', 'vae', wasm), 'ort');
    assert.equal(resolveEngine('auto', 'vae', { name: 'tfjs-node-gpu', tfjsName: 'tensorflow', skipped: [] }), 'tfjs');
    assert.equal(resolveEngine('tfjs', family, wasm), 'tfjs');
  });

  it('@slow loss curve over an epoch of 6,000 MNIST images agrees with the tfjs engine within run-to-run noise', async () => {
    const model = { family: 'vae', architecture: 'mlp', hiddenSizes: [128], latentSize: 16 };
    const settings = { stepsPerEpoch: undefined, batchSize: 64, logEvery: 5, validationFraction: 0.1 };
    const data = { dataset: { name: 'mnist', limit: 6000 } };
    const curve = async (name: string, engine: string, seed: number) => {
      const config = runConfig(name, model, { ...settings, engine, seed });
      const result = await train({ ...config, data });
      return { steps: (await stepRecords(result.runDir)).map((r) => r.terms.total), epoch: result.lastEpoch! };
    };
    const tfjs = await curve('curve-tfjs', 'tfjs', 1);
    const ort = await curve('curve-ort', 'ort', 1);
    // Run-to-run noise: the tfjs engine with another seed (other initial weights, batch order, noise).
    const other = await curve('curve-tfjs-other-seed', 'tfjs', 2);
    assert.equal(ort.steps.length, tfjs.steps.length);
    assert.ok(tfjs.steps.length >= 15, `${tfjs.steps.length} logged steps`);
    const meanRelative = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]) / Math.abs(b[i]), 0) / a.length;
    const engineGap = meanRelative(ort.steps, tfjs.steps);
    const noise = meanRelative(other.steps, tfjs.steps);
    assert.ok(engineGap <= noise / 10, `ort vs tfjs: mean relative gap ${engineGap.toExponential(2)}; tfjs seed-to-seed noise ${noise.toExponential(2)}`);
    for (const k of Object.keys(tfjs.epoch.validation)) {
      const [a, b] = [ort.epoch.validation[k], tfjs.epoch.validation[k]];
      assert.ok(Math.abs(a - b) <= 1e-2 * Math.abs(b), `validation ${k} after one epoch: ort ${a}, tfjs ${b}`);
    }
  });

  it("refuses a layer it cannot train, naming it, and 'auto' falls back to tfjs", async () => {
    // No family builds an untrainable layer today: give a vae an encoder with Dropout (which the
    // engine refuses rather than silently train a different model).
    const shape = { height: 28, width: 28, channels: 1, numClasses: 10, valueRange: 'unit' as const };
    const family = getFamily('vae');
    const vae = family.build(family.configSchema.parse({ family: 'vae', architecture: 'mlp', hiddenSizes: [8], latentSize: 2 }), shape, 1);
    const image = tf.input({ shape: [28, 28, 1] });
    const h = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(tf.layers.flatten().apply(image)) as tf.SymbolicTensor;
    const encoder = tf.model({ inputs: image, outputs: [tf.layers.dense({ units: 2 }).apply(h), tf.layers.dense({ units: 2 }).apply(h)] as tf.SymbolicTensor[] });
    const model = Object.assign(Object.create(Object.getPrototypeOf(vae)) as FamilyModel, vae, { parts: { ...vae.parts, encoder } });
    const setup: EngineSetup = { model, shape, batchSize: 4, adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, savedOptimizers: {}, logger: silentLogger };
    try {
      await assert.rejects(
        () => createEngine('ort', setup),
        (error: unknown) => error instanceof AekitError && error.code === 'BAD_CONFIG' && error.where === "layer 'drop' (Dropout)" && error.message.includes('--engine tfjs'),
      );
      const fallback = await createEngine('ort', setup, true);
      assert.equal(fallback.name, 'tfjs', "'auto' trains it with tfjs");
      await fallback.dispose();
    } finally {
      vae.dispose();
      encoder.dispose();
    }
  });

  it('trains Gumbel straight-through (hard) samples: one-hot forward, relaxed gradient', async () => {
    const model = { family: 'gumbel-vae', architecture: 'mlp', hiddenSizes: [8], categorical: { variables: 2, classes: 3 }, hard: true };
    const reference = await checkpointTensors((await train(runConfig('hard-tfjs', model, { engine: 'tfjs' }))).runDir);
    const candidate = await checkpointTensors((await train(runConfig('hard-ort', model, { engine: 'ort' }))).runDir);
    for (const [name, expected] of reference.tensors) {
      const diff = relativeDifference(candidate.tensors.get(name)!, expected);
      assert.ok(diff <= WEIGHT_TOLERANCE, `${name}: relative difference ${diff.toExponential(2)}`);
    }
  });

  it("'auto' picks ort for a family it trains", async () => {
    const result = await train(runConfig('auto', { family: 'vae', architecture: 'mlp', hiddenSizes: [8], latentSize: 2 }, { engine: 'auto', stepsPerEpoch: 1 }));
    assert.equal(result.engine, 'ort');
  });
});
