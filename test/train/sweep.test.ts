import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../../src/core/rng';
import { loadDataset, splitIndices, subset } from '../../src/data';
import type { ImageDataset } from '../../src/data';
import { resolveRunConfig } from '../../src/run/config';
import { loadSweepConfig, runSweep, sweepPoints } from '../../src/train/sweep';
import type { SweepConfig } from '../../src/train/sweep';
import { prepareData } from '../../src/train/data';
import { train } from '../../src/train/trainer';
import type { Logger } from '../../src/core/log';

const RECIPE = path.resolve(__dirname, '..', '..', 'experiments', 'mnist-vae-grid-small.json');

/** The small grid recipe at fixture size: 300 MNIST images, one epoch, tiny layers. */
async function tinySweep(outDir: string): Promise<SweepConfig> {
  const recipe = await loadSweepConfig(RECIPE);
  const base = structuredClone(recipe.base) as { model: Record<string, unknown>; data: { dataset: Record<string, unknown> }; train: Record<string, unknown> };
  base.data.dataset.limit = 300;
  base.train = { ...base.train, epochs: 1, batchSize: 50, backend: 'wasm', logEvery: 1 };
  return { ...recipe, name: 'grid', outDir, base, grid: { 'model.hiddenSizes': [[16], [32]], 'model.latentSize': [2, 4] } };
}

function rows(dataset: ImageDataset): Set<string> {
  const size = dataset.height * dataset.width * dataset.channels;
  return new Set(Array.from({ length: dataset.count }, (_, i) => Buffer.from(dataset.images.buffer, dataset.images.byteOffset + i * size * 4, size * 4).toString('base64')));
}

function recordingLogger(lines: string[]): Logger {
  const push = (m: string) => lines.push(m);
  return { error: push, warn: push, info: push, debug() {} };
}

describe('sweep', function () {
  this.timeout(120_000);
  let tmp: string;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-sweep-'));
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('holds out a disjoint test split with train.testFraction, and keeps the two-way split when it is 0', async () => {
    const config = (v: number, t: number) =>
      resolveRunConfig({ name: 'split', model: { family: 'vae', architecture: 'mlp' }, data: { dataset: { name: 'mnist', limit: 300 } }, train: { seed: 7, validationFraction: v, testFraction: t } });
    const three = await prepareData(config(0.1, 0.1));
    assert.deepEqual([three.train.count, three.validation?.count, three.test?.count], [240, 30, 30]);
    const train = rows(three.train);
    const val = rows(three.validation!);
    for (const row of rows(three.test!)) assert.ok(!train.has(row) && !val.has(row), 'a test image is also in train or validation');

    const two = await prepareData(config(0.1, 0));
    assert.equal(two.test, undefined);
    const full = await loadDataset({ name: 'mnist', limit: 300 }, 'train', 7);
    const [, valIdx] = splitIndices(full.count, [0.9, 0.1], Rng.derive(7, 'split').seed());
    assert.deepEqual(two.validation!.images, subset(full, valIdx).images);
  });

  it('expands variants x grid into named, validated run configs with the split applied', async () => {
    const config = await tinySweep(tmp);
    const points = sweepPoints({ ...config, variants: [{ name: 'mse', set: { 'model.reconstruction': 'mse' } }] });
    assert.deepEqual(
      points.map((p) => p.name),
      ['mse_hiddenSizes-16_latentSize-2', 'mse_hiddenSizes-16_latentSize-4', 'mse_hiddenSizes-32_latentSize-2', 'mse_hiddenSizes-32_latentSize-4'],
    );
    const last = points[3].config;
    assert.deepEqual([last.model.hiddenSizes, last.model.latentSize, last.model.reconstruction], [[32], 4, 'mse']);
    assert.deepEqual([last.train.validationFraction, last.train.testFraction], [0.1, 0.1]);
    assert.equal(last.outDir, path.join(tmp, 'grid', 'runs'));
    assert.throws(() => sweepPoints({ ...config, grid: { 'model.latentSize': [-1] } }), /latentSize/);
  });

  it('trains a 2x2 grid in parallel (resuming an interrupted run), selects on validation, tests the selection; a rerun skips all four @slow', async () => {
    const config = await tinySweep(tmp);
    // Interrupt one configuration after its first step, as Ctrl-C would.
    const interrupted = sweepPoints(config)[1];
    const controller = new AbortController();
    const partial = await train(interrupted.config, { signal: controller.signal, onEvent: (e) => e.type === 'step' && controller.abort() });
    assert.equal(partial.interrupted, true);

    const firstLog: string[] = [];
    const first = await runSweep(config, { jobs: 2, logger: recordingLogger(firstLog) });
    assert.deepEqual(
      first.runs.map((r) => [r.name, r.action, r.status]),
      [
        ['hiddenSizes-16_latentSize-2', 'new', 'finished'],
        ['hiddenSizes-16_latentSize-4', 'resumed', 'finished'],
        ['hiddenSizes-32_latentSize-2', 'new', 'finished'],
        ['hiddenSizes-32_latentSize-4', 'new', 'finished'],
      ],
    );
    const resumedInfo = JSON.parse(await fs.readFile(path.join(first.runs[1].runDir, 'run.json'), 'utf8')) as { resumedFrom: string | null };
    assert.match(String(resumedInfo.resumedFrom), /interrupted/);

    // Selection: the lowest validation negative ELBO, then scored on the 30 held-out test images.
    assert.equal(first.metric, 'negElbo');
    const best = [...first.runs].sort((a, b) => a.validation.negElbo - b.validation.negElbo)[0];
    assert.deepEqual(first.selected, [best.name]);
    assert.equal(best.test?.count, 30);
    assert.ok(Number.isFinite(best.test!.metrics.negElbo) && best.test!.metrics.negElbo > 0);
    assert.ok(first.runs.filter((r) => r.name !== best.name).every((r) => r.test === undefined));

    const markdown = await fs.readFile(first.files.markdown, 'utf8');
    for (const run of first.runs) assert.ok(markdown.includes(run.name), `table lacks ${run.name}`);
    assert.match(markdown, /\| run \| hiddenSizes \| latentSize \| status \| epochs \| train total \| train reconstruction \| val negElbo \| val reconstruction \|/);
    assert.match(markdown, /### Test split \(30 images\)/);
    const json = JSON.parse(await fs.readFile(first.files.json, 'utf8')) as { runs: unknown[]; selected: string[] };
    assert.equal(json.runs.length, 4);
    assert.ok(first.files.curves && (await fs.stat(first.files.curves)).size > 0);

    const metricsBefore = await Promise.all(first.runs.map((r) => fs.stat(path.join(r.runDir, 'metrics.jsonl'))));
    const secondLog: string[] = [];
    const second = await runSweep(config, { jobs: 2, logger: recordingLogger(secondLog) });
    assert.deepEqual(second.runs.map((r) => r.action), ['skipped', 'skipped', 'skipped', 'skipped']);
    assert.equal(secondLog.filter((l) => l.startsWith('skip ')).length, 4);
    assert.ok(!secondLog.some((l) => /^\[\d+\/\d+\]/.test(l)), 'no run should start on the rerun');
    const metricsAfter = await Promise.all(second.runs.map((r) => fs.stat(path.join(r.runDir, 'metrics.jsonl'))));
    assert.deepEqual(metricsAfter.map((s) => s.mtimeMs), metricsBefore.map((s) => s.mtimeMs));
    assert.deepEqual(second.selected, first.selected);
    assert.deepEqual(second.runs.map((r) => r.validation), first.runs.map((r) => r.validation));
  });

  it('stops starting runs on abort, leaves the test split alone until every run is trained, then finishes on rerun @slow', async () => {
    const config = { ...(await tinySweep(tmp)), name: 'aborted' };
    const controller = new AbortController();
    const lines: string[] = [];
    const logger = recordingLogger(lines);
    // Abort as soon as the first run is done (one job: the other three have not started).
    const watching: Logger = { ...logger, info: (m) => (logger.info(m), m.startsWith('finished ') && controller.abort()) };
    const first = await runSweep(config, { jobs: 1, logger: watching, signal: controller.signal });
    assert.deepEqual(first.runs.map((r) => r.status), ['finished', 'pending', 'pending', 'pending']);
    assert.ok(first.runs.every((r) => r.test === undefined));
    assert.ok(lines.includes('test split not evaluated: 3 run(s) not trained to the end yet'));
    assert.match(await fs.readFile(first.files.markdown, 'utf8'), /3 run\(s\) not trained to the end: the selection is provisional/);

    const second = await runSweep(config, { jobs: 2 });
    assert.deepEqual(second.runs.map((r) => [r.action, r.status]), [['skipped', 'finished'], ['new', 'finished'], ['new', 'finished'], ['new', 'finished']]);
    assert.equal(second.runs.filter((r) => r.test !== undefined).length, 1);
    assert.doesNotMatch(await fs.readFile(second.files.markdown, 'utf8'), /provisional/);
  });

  it('trains on the one smaller batch when a split has fewer images than a batch (tiny fixtures)', async () => {
    // 40 images, 10% validation: 36 training images, batch size 64.
    const result = await train({ name: 'small', outDir: tmp, model: { family: 'vae', architecture: 'mlp', hiddenSizes: [16], latentSize: 2 }, data: { dataset: { name: 'mnist', limit: 40 } }, train: { epochs: 2, batchSize: 64, backend: 'wasm' } });
    assert.equal(result.steps, 2);
    assert.ok(Number.isFinite(result.lastEpoch!.train.total));
  });

  it('refuses to reuse a run folder trained with a different config', async () => {
    const config = { ...(await tinySweep(tmp)), name: 'changed' };
    // What `aekit train` writes first: the run's resolved config.
    const point = sweepPoints(config)[0];
    await fs.mkdir(path.join(point.config.outDir, point.name), { recursive: true });
    await fs.writeFile(path.join(point.config.outDir, point.name, 'config.json'), JSON.stringify(point.config));
    const changed = { ...config, base: { ...config.base, train: { ...(config.base.train as object), learningRate: 0.01 } } };
    await assert.rejects(runSweep(changed, { dryRun: true }), /different config \(train\.learningRate\)/);
    const same = await runSweep(config, { dryRun: true });
    assert.deepEqual(same.runs.map((r) => [r.action, r.status]).slice(0, 2), [['restarted', 'pending'], ['new', 'pending']]);
  });
});
