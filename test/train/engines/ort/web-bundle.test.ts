/**
 * Fine-tuning bundles in Node: a run's bundle (exportTrainingStep), loaded and stepped by the
 * browser module's own `loadTrainer` on onnxruntime-web's wasm provider, continues the run exactly
 * as `train()` with engine ort does: after two steps on the trainer's next batches and noise, the
 * weights (BatchNorm statistics included) and loss terms are the ones a longer run of the same
 * seed reaches.
 */
// Before the web module's static onnxruntime-web import: onnxruntime-common (1.30) keeps the first
// backend registered as 'cpu' even when a later one has a higher priority, so loading
// onnxruntime-web first would run onnxruntime-node's CPU sessions (train()'s engine) on wasm.
import 'onnxruntime-node';
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportCommand } from '../../../../src/cli/commands/export';
import { AekitError } from '../../../../src/core/errors';
import { Rng } from '../../../../src/core/rng';
import { tf } from '../../../../src/core/tfjs-backend';
import { batches, epochOrder } from '../../../../src/data/batches';
import { loadTrainer } from '../../../../src/serve/web/aekit-web';
import { resolveRunConfig } from '../../../../src/run/config';
import { exportTrainingStep, TRAIN_STEP_FILES } from '../../../../src/train/engines/ort/web-bundle';
import type { TrainStepManifest } from '../../../../src/train/engines/ort/web-bundle';
import { RunFolder } from '../../../../src/run/run-folder';
import type { StepRecord } from '../../../../src/run/run-folder';
import { prepareData } from '../../../../src/train/data';
import { train } from '../../../../src/train/trainer';
import { relativeDifference } from '../helpers';

/** The criterion: updated weights agree to 1e-4, relative (per tensor, in L2 norm). */
const WEIGHT_TOLERANCE = 1e-4;
/** Loss terms agree to float32 rounding of differently ordered sums (as test/train/engines/engine.test.ts). */
const TERM_TOLERANCE = 1e-5;
const SEED = 7;
const BATCH = 16;

/** fetch over local files, for `loadTrainer` in Node (the page fetches the same files over HTTP). */
const fileFetch = (async (url: string) => new Response(await fs.readFile(url))) as unknown as typeof fetch;
const WASM_PATHS = `${path.dirname(require.resolve('onnxruntime-web'))}/`;

let outDir: string;

function runConfig(name: string, model: { family: string } & Record<string, unknown>, epochs: number) {
  return {
    name,
    outDir,
    model,
    data: { dataset: { name: 'mnist', limit: 160 } },
    train: { epochs, batchSize: BATCH, stepsPerEpoch: 2, logEvery: 1, seed: SEED, validationFraction: 0, backend: 'wasm', engine: 'ort' },
  } as const;
}

/** Weights of a run's latest checkpoint by `<part>/<name>`, as bundles name them. */
async function checkpointWeights(runDir: string): Promise<Map<string, Float32Array>> {
  const latest = JSON.parse(await fs.readFile(path.join(runDir, 'checkpoints', 'latest.json'), 'utf8')) as { checkpoint: string };
  const dir = path.join(runDir, 'checkpoints', latest.checkpoint);
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8')) as { parts: Record<string, { name: string; shape: number[]; offset: number }[]> };
  const raw = await fs.readFile(path.join(dir, 'tensors.bin'));
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const weights = new Map<string, Float32Array>();
  for (const [part, entries] of Object.entries(manifest.parts)) {
    for (const e of entries) weights.set(`${part}/${e.name}`, all.subarray(e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1)));
  }
  return weights;
}

/**
 * The batches and noise `train()` uses for the given steps of epoch `epoch` (src/train/trainer.ts:
 * the epoch's shuffled order, and noise drawn by tfjs with the step's seed, as engine ort draws it).
 */
async function trainerSteps(config: ReturnType<typeof runConfig>, manifest: TrainStepManifest, epoch: number, firstStep: number): Promise<{ step: number; images: Float32Array; noise: Record<string, Float32Array> }[]> {
  const resolved = resolveRunConfig(config);
  const data = await prepareData(resolved);
  const out: { step: number; images: Float32Array; noise: Record<string, Float32Array> }[] = [];
  for (const batch of batches(data.train, epochOrder(data.train.count, SEED, epoch), BATCH, { dropLast: true })) {
    if (batch.index >= 2) break;
    const step = firstStep + batch.index;
    const seed = Rng.derive(SEED, 'step', step).seed();
    const noise: Record<string, Float32Array> = {};
    for (const n of manifest.noise) {
      if (n.distribution !== 'normal') throw new Error(`this helper draws normal noise only, not ${n.distribution}`);
      const drawn = tf.randomNormal(n.drawShape, n.mean, n.std, 'float32', seed);
      noise[n.input] = drawn.dataSync() as Float32Array;
      drawn.dispose();
    }
    out.push({ step, images: batch.images, noise });
  }
  return out;
}

const CASES: [string, { family: string; batchNorm?: boolean } & Record<string, unknown>][] = [
  ['mlp vae', { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 3 }],
  ['conv vae', { family: 'vae', convChannels: [4, 8], latentSize: 3 }],
  ['conv ae with BatchNorm', { family: 'ae', convChannels: [4, 8], latentSize: 3, batchNorm: true }],
];

describe('train/engines/ort: fine-tuning bundle stepped by loadTrainer on onnxruntime-web (wasm)', function () {
  this.timeout(300_000);

  before(async () => {
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-web-bundle-'));
  });
  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  for (const [label, model] of CASES) {
    it(`${label}: two steps continue the run as train() with engine ort does`, async () => {
      const slug = label.replace(/\s+/g, '-');
      const short = runConfig(`${slug}-2-steps`, model, 1);
      const long = runConfig(`${slug}-4-steps`, model, 2);
      const started = await train(short);
      const reference = await train(long);
      const bundle = await exportTrainingStep(started.runDir, path.join(outDir, `${slug}-bundle`));
      const { manifest } = bundle;
      assert.equal(manifest.batchSize, BATCH);
      assert.equal(manifest.optimizer.step, 2, 'Adam steps of the checkpoint');
      assert.match(manifest.source.checkpoint, new RegExp(`^${slug}-2-steps/checkpoints/[^/]+$`), 'the checkpoint, relative to the runs folder');
      assert.equal(manifest.optimizer.learningRate, 1e-3);
      const variational = model.family === 'vae';
      assert.deepEqual(manifest.scalars.map((s) => [s.input, s.value]), variational ? [['beta', 1]] : []);
      assert.deepEqual(manifest.noise.map((n) => [n.input, n.dims, n.distribution]), variational ? [['eps', [BATCH, 3], 'normal']] : []);
      assert.deepEqual(manifest.losses.map((l) => l.name), variational ? ['total', 'reconstruction', 'kl'] : ['total', 'reconstruction']);
      assert.equal(manifest.tensors.some((t) => t.role === 'statistic'), model.batchNorm === true, 'BatchNorm statistics are state the step updates');
      assert.deepEqual(
        (await fs.readdir(bundle.dir)).sort(),
        Object.values(TRAIN_STEP_FILES).sort(),
      );

      const trainer = await loadTrainer(bundle.files.manifest, { fetch: fileFetch, wasmPaths: WASM_PATHS, numThreads: 1, log: () => {} });
      try {
        assert.equal(trainer.executionProvider, 'wasm');
        assert.equal(trainer.stepCount, 2);
        const logged = (await new RunFolder(reference.runDir).readMetrics()).filter((r): r is StepRecord => r.kind === 'step');
        for (const { step, images, noise } of await trainerSteps(long, manifest, 1, 2)) {
          const losses = await trainer.step(images, { noise });
          // A step record carries the step count after it.
          const expected = logged.find((r) => r.step === step + 1);
          assert.ok(expected, `step ${step} is logged`);
          for (const [k, v] of Object.entries(expected.terms)) {
            const rel = Math.abs(losses[k] - v) / Math.max(1e-6, Math.abs(v));
            assert.ok(rel <= (k === 'gradNorm' ? WEIGHT_TOLERANCE : TERM_TOLERANCE), `step ${step} ${k}: train() ${v}, bundle ${losses[k]}`);
          }
        }
        assert.equal(trainer.stepCount, 4);
        const expected = await checkpointWeights(reference.runDir);
        const actual = trainer.parameters();
        assert.deepEqual(Object.keys(actual).sort(), [...expected.keys()].sort(), 'every weight, named as in checkpoints');
        for (const [name, values] of expected) {
          const diff = relativeDifference(actual[name], values);
          assert.ok(diff <= WEIGHT_TOLERANCE, `${name}: relative difference ${diff.toExponential(2)} > ${WEIGHT_TOLERANCE}`);
        }
        await assert.rejects(trainer.step(new Float32Array(3)), /takes 16 images of 28x28x1/);
      } finally {
        await trainer.release();
      }
    });
  }

  it('draws its own noise from a seed, reproducibly; refuses what it cannot run', async () => {
    const run = await train(runConfig('seeded', CASES[0][1], 1));
    const bundle = await exportTrainingStep(run.runDir, path.join(outDir, 'seeded-bundle'), { batchSize: 4, learningRate: 0.01 });
    assert.equal(bundle.manifest.batchSize, 4);
    await assert.rejects(exportTrainingStep(run.runDir, path.join(outDir, 'seeded-bundle')), (e: unknown) => e instanceof AekitError && e.code === 'ALREADY_EXISTS');
    const images = new Float32Array(4 * 28 * 28).map((_, i) => (i % 7) / 7);
    const open = () => loadTrainer(`${bundle.dir}/`, { fetch: fileFetch, wasmPaths: WASM_PATHS, log: () => {} });
    const [a, b] = [await open(), await open()];
    try {
      const la = await a.step(images, { seed: 3 });
      const lb = await b.step(images, { seed: 3 });
      assert.deepEqual(la, lb);
      const lc = await a.step(images, { seed: 4 });
      assert.ok(Number.isFinite(lc.total) && lc.total < la.total, `a second step on the same images lowers the loss (${la.total} -> ${lc.total})`);
      assert.notDeepEqual(a.parameters(), b.parameters());
    } finally {
      await a.release();
      await b.release();
    }
    await assert.rejects(loadTrainer(path.join(outDir, 'nothing.json'), { fetch: fileFetch }), /ENOENT|no such file/);
    await assert.rejects(loadTrainer(`${bundle.dir}/`, { fetch: fileFetch, executionProviders: ['cuda' as 'wasm'] }), /unknown execution provider 'cuda'; expected one of: webgpu, wasm/);

    const gan = await train({ ...runConfig('gan', { family: 'dcgan', latentSize: 4, generatorFeatures: 4, discriminatorFeatures: 4 }, 1), data: { dataset: { name: 'mnist', limit: 32 }, valueRange: 'symmetric' } });
    await assert.rejects(exportTrainingStep(gan.runDir, path.join(outDir, 'gan-bundle')), (e: unknown) => e instanceof AekitError && e.code === 'BAD_CONFIG' && /2 phases \(discriminator, generator\)/.test(e.message));
  });

  it('aekit export --part train-step writes the bundle; artifact-only flags are refused', async () => {
    const run = await train(runConfig('cli', CASES[0][1], 1));
    const out = path.join(outDir, 'cli-bundle');
    const cli = (...args: string[]) => exportCommand().exitOverride().parseAsync([run.runDir, ...args], { from: 'user' });
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await cli('--part', 'train-step', '--out', out, '--batch-size', '8');
    } finally {
      process.stdout.write = write;
    }
    assert.match(written.join(''), /wrote a fine-tuning bundle of vae \(Adam step 2, batch 8, lr 0.001\)/);
    const manifest = JSON.parse(await fs.readFile(path.join(out, TRAIN_STEP_FILES.manifest), 'utf8')) as TrainStepManifest;
    assert.equal(manifest.batchSize, 8);
    await assert.rejects(cli('--part', 'train-step', '--out', out, '--fp16', '--force'), /--fp16 do not apply to --part train-step/);
    await assert.rejects(cli('--part', 'decoder', '--out', path.join(outDir, 'd.onnx'), '--batch-size', '8'), /--batch-size applies to --part train-step only/);
  });
});
