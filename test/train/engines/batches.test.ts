/**
 * Any data size on both engines: an epoch's last, smaller batch trains (the ort engine compiles a
 * second shape for it) and gives the tfjs engine's numbers, BatchNorm statistics included; a set
 * smaller than one batch trains in one step of all its images, with a warning.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../../../src/core/log';
import { getFamily } from '../../../src/models';
import { ortFamilies } from '../../../src/train/engines';
import { train } from '../../../src/train/trainer';
import type { TrainEvent } from '../../../src/train/trainer';
import { RunFolder } from '../../../src/run/run-folder';
import type { StepRecord } from '../../../src/run/run-folder';
import { checkpointTensors } from './checkpoint-tensors';
import { relativeDifference } from './helpers';

/** As engine.test.ts: updated weights agree to 1e-4 relative, loss terms to 1e-5. */
const WEIGHT_TOLERANCE = 1e-4;
const TERM_TOLERANCE = 1e-5;

let outDir: string;

/** A logger that keeps its warnings. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, error() {}, warn: (m) => warnings.push(m), info() {}, debug() {} };
}

interface Trained {
  runDir: string;
  start: Extract<TrainEvent, { type: 'start' }>;
  steps: StepRecord[];
  warnings: string[];
}

async function run(name: string, model: Record<string, unknown>, train_: Record<string, unknown>, data: Record<string, unknown>): Promise<Trained> {
  const logger = recordingLogger();
  let start: Trained['start'] | undefined;
  const result = await train(
    { name, outDir, model, data, train: { epochs: 1, logEvery: 1, seed: 11, validationFraction: 0, backend: 'wasm', ...train_ } },
    { logger, onEvent: (e) => e.type === 'start' && (start = e) },
  );
  const steps = (await new RunFolder(result.runDir).readMetrics()).filter((r): r is StepRecord => r.kind === 'step');
  return { runDir: result.runDir, start: start!, steps, warnings: logger.warnings };
}

/** Ill-conditioned tensors: the ort engine may differ from tfjs-wasm by this multiple of tfjs-cpu's difference (as engine.test.ts). */
const BACKEND_SPREAD_FACTOR = 4;

/** Relative differences of `b` from `a`: every checkpoint tensor and every logged term, with its tolerance. */
async function differences(a: Trained, b: Trained): Promise<Map<string, { diff: number; tolerance: number }>> {
  const [ta, tb] = [await checkpointTensors(a.runDir), await checkpointTensors(b.runDir)];
  assert.deepEqual(tb.steps, ta.steps, 'Adam step counts');
  assert.equal(b.steps.length, a.steps.length);
  const out = new Map<string, { diff: number; tolerance: number }>();
  for (const [name, expected] of ta.tensors) out.set(name, { diff: relativeDifference(tb.tensors.get(name)!, expected), tolerance: WEIGHT_TOLERANCE });
  a.steps.forEach((record, i) => {
    for (const [k, v] of Object.entries(record.terms)) {
      const tolerance = k.endsWith('gradNorm') ? WEIGHT_TOLERANCE : k.endsWith('diversity') ? 1e-3 : TERM_TOLERANCE;
      out.set(`step ${record.step} ${k}`, { diff: Math.abs(b.steps[i].terms[k] - v) / Math.max(1e-6, Math.abs(v)), tolerance });
    }
  });
  return out;
}

/**
 * The ort run trained as the tfjs one did: weights, statistics, moments and logged terms within
 * the parity tolerances; or, where not, within the spread of tfjs's own cpu and wasm backends
 * (`cpuReference` trains it on tfjs-cpu): BatchNorm shifts whose gradient is a rounding residual
 * that Adam scales to full steps differ between any two summation orders (engine.test.ts).
 */
async function assertSameTraining(label: string, tfjs: Trained, ort: Trained, cpuReference: () => Promise<Trained>): Promise<void> {
  const gaps = [...(await differences(tfjs, ort))].filter(([, { diff, tolerance }]) => !(diff <= tolerance));
  if (gaps.length === 0) return;
  const spread = await differences(tfjs, await cpuReference());
  for (const [name, { diff, tolerance }] of gaps) {
    const backends = spread.get(name)!.diff;
    assert.ok(diff <= Math.max(tolerance, BACKEND_SPREAD_FACTOR * backends), `${label} ${name}: ort vs tfjs-wasm ${diff.toExponential(2)}, tfjs-cpu vs tfjs-wasm ${backends.toExponential(2)}`);
  }
}

/** A label, the model, overrides of the train settings, the data settings (default: 40 MNIST images). */
type PartialCase = [string, Record<string, unknown>, Record<string, unknown>?, Record<string, unknown>?];

/**
 * Three steps per epoch, the last one smaller: 40 images in batches of 16 (16, 16 and 8), for every
 * registered family the ort engine trains, on its registry tiny config; cyclegan (slow: its
 * ill-conditioned tensors need the tfjs-cpu reference) on 10 images in batches of 4. Then Adam in
 * the graph (onnxruntime-web).
 */
function partialCases(): PartialCase[] {
  const families = ortFamilies().map((family): PartialCase => {
    const { tinyConfig, valueRange } = getFamily(family);
    const range = valueRange ? { valueRange } : {};
    if (!tinyConfig.domainB) return [`${family} (its tiny config)`, tinyConfig, {}, range];
    const domain = (colors: string) => ({ name: 'colored-mnist', colors, limit: 10 });
    return [`@slow ${family} (its tiny config, two domains)`, { ...tinyConfig, domainB: domain('cool') }, { batchSize: 4 }, { dataset: domain('warm'), ...range }];
  });
  return [
    ...families,
    ['vae conv with BatchNorm (batch statistics of the 8 real rows)', { family: 'vae', convChannels: [4, 8], latentSize: 3, batchNorm: true }],
    ['vae mlp on onnxruntime-web (Adam in the graph)', { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 3 }, { ortRuntime: 'ort-web-wasm' }],
  ];
}

describe('train/engines: any data size', function () {
  this.timeout(300_000);

  before(async () => {
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-batches-'));
  });
  after(async () => {
    await fs.rm(outDir, { recursive: true, force: true });
  });

  for (const [label, model, settings, data] of partialCases()) {
    it(`${label}: the last, smaller batch trains on both engines alike`, async () => {
      const slug = label.replace(/[^a-z0-9]+/gi, '-');
      const dataset = { dataset: { name: 'mnist', limit: 40 }, ...data };
      const tfjs = await run(`${slug}-tfjs`, model, { batchSize: 16, ...settings, engine: 'tfjs' }, dataset);
      const ort = await run(`${slug}-ort`, model, { batchSize: 16, ...settings, engine: 'ort' }, dataset);
      for (const trained of [tfjs, ort]) {
        assert.equal(trained.start.stepsPerEpoch, 3, 'every image trains: two full batches and a smaller one');
        assert.equal(trained.steps.length, 3);
        assert.deepEqual(trained.warnings, []);
      }
      await assertSameTraining(label, tfjs, ort, () => run(`${slug}-tfjs-cpu`, model, { batchSize: 16, ...settings, engine: 'tfjs', backend: 'cpu' }, dataset));
    });
  }

  it('a set smaller than one batch trains in one step of all its images, with a warning, on both engines', async () => {
    const model = { family: 'vae', convChannels: [4, 8], latentSize: 3, batchNorm: true };
    const dataset = { dataset: { name: 'mnist', limit: 5 } };
    const tfjs = await run('five-tfjs', model, { batchSize: 128, epochs: 2, engine: 'tfjs' }, dataset);
    const ort = await run('five-ort', model, { batchSize: 128, epochs: 2, engine: 'ort' }, dataset);
    for (const trained of [tfjs, ort]) {
      assert.equal(trained.start.batchSize, 5);
      assert.equal(trained.start.stepsPerEpoch, 1);
      assert.equal(trained.steps.length, 2, 'one step per epoch');
      assert.deepEqual(trained.warnings, ['train.batchSize is 128 but the training split has 5 images: training on batches of 5 (one step per epoch)']);
    }
    await assertSameTraining('5 images', tfjs, ort, () => run('five-tfjs-cpu', model, { batchSize: 128, epochs: 2, engine: 'tfjs', backend: 'cpu' }, dataset));
    const config = JSON.parse(await fs.readFile(new RunFolder(ort.runDir).configPath, 'utf8'));
    assert.equal(config.train.batchSize, 128, 'config.json keeps what was asked');
  });
});
