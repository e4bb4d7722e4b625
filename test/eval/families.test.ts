/**
 * Every registered family's declared evaluation (FamilyDefinition.evaluation.metrics) against what
 * evaluate() really computes on a trained and exported artifact: a tiny run of each family (one
 * epoch of two steps on MNIST, coloured MNIST for cyclegan) is exported to ONNX and evaluated with
 * the default metric set. Every declared metric must be in the report with finite values (or be
 * listed in `skipped` with a reason), and no undeclared metric may be computed. Adding a family to
 * src/models/index.ts adds it here.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EVAL_METRICS, evaluate } from '../../src';
import type { EvalMetric, EvalReport } from '../../src';
import { exportRun } from '../../src/export/run-export';
import { FAMILY_EVAL_METRICS, familyNames, getFamily } from '../../src/models';
import type { FamilyEvalMetric } from '../../src/models';
import { train } from '../../src/train/trainer';
import { EVAL_METRICS_OF } from './helpers';

/** Training images of each tiny run (the first of the split). */
const TRAIN_LIMIT = 64;
/** Images per comparison in evaluate(). */
const COUNT = 64;
/** Cheap latent-classifier settings: k-NN only, on a few rows. */
const LATENT = { latentTrainCount: 100, latentTestCount: 50, latentClassifiers: ['knn'] as const };

/** Every number in a report section (nested objects and arrays), with its path. */
function numbersIn(value: unknown, at: string): [string, number][] {
  if (typeof value === 'number') return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbersIn(v, `${at}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbersIn(v, `${at}.${k}`));
  return [];
}

/** The run config of a tiny run of `family`: its tiny architecture on 28x28 MNIST (coloured MNIST, warm -> cool, for cyclegan). */
function runConfig(family: string, outDir: string): Record<string, unknown> {
  const definition = getFamily(family);
  const valueRange = definition.valueRange ?? 'unit';
  const trainSettings = { epochs: 1, stepsPerEpoch: 2, batchSize: 16, backend: 'wasm', seed: 0, logEvery: 1, validationLimit: 16 };
  if (family === 'cyclegan') {
    return {
      name: family,
      outDir,
      model: { ...definition.tinyConfig, domainB: { name: 'colored-mnist', colors: 'cool', limit: TRAIN_LIMIT }, lambdaIdentity: 0 },
      data: { dataset: { name: 'colored-mnist', colors: 'warm', limit: TRAIN_LIMIT }, valueRange: 'symmetric' },
      train: { ...trainSettings, batchSize: 4, learningRate: 2e-4 },
    };
  }
  return { name: family, outDir, model: definition.tinyConfig, data: { dataset: { name: 'mnist', limit: TRAIN_LIMIT }, valueRange }, train: trainSettings };
}

describe('eval: every family evaluates to the metrics it declares', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-eval-families-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('maps every family metric to report fields, and every report metric to one family metric', () => {
    assert.deepEqual(Object.keys(EVAL_METRICS_OF).sort(), [...FAMILY_EVAL_METRICS].sort());
    assert.deepEqual(Object.values(EVAL_METRICS_OF).flat().sort(), [...EVAL_METRICS].sort());
  });

  for (const family of familyNames()) {
    it(`${family}: a trained, exported run gives exactly its declared metrics`, async () => {
      const definition = getFamily(family);
      const declared = new Set(definition.evaluation.metrics.flatMap((m) => EVAL_METRICS_OF[m]));
      await train(runConfig(family, dir));
      const runDir = path.join(dir, family);
      const onnxDir = path.join(runDir, 'onnx');
      await exportRun(runDir, { out: onnxDir, verify: false });
      const report: EvalReport = await evaluate(onnxDir, {
        count: COUNT,
        elboCount: 8,
        iwaeSamples: 2,
        ...LATENT,
        cacheDir: path.join(dir, 'fid-cache'),
        figures: false,
        // Coloured MNIST is tinted as it loads: keep domain A's splits small (domain B is the run config's, its test split only).
        ...(family === 'cyclegan' ? { dataset: { name: 'colored-mnist' as const, colors: 'warm' as const, limit: COUNT } } : {}),
      });
      assert.equal(report.target.family, family);
      assert.deepEqual(Object.keys(report.target.parts).sort(), definition.exportParts.filter((p) => !p.startsWith('discriminator')).sort());

      // Skipped metrics are declared ones, each with a reason; on 28x28x1 data the shipped classifier gives FID.
      for (const { metric, reason } of report.skipped) {
        assert.ok(declared.has(metric), `skipped '${metric}', which ${family} does not declare`);
        assert.ok(reason.trim().length > 0, `'${metric}' skipped without a reason`);
      }
      const skipped = new Set(report.skipped.map((s) => s.metric));
      const { height, width, channels } = report.dataset;
      if (declared.has('fid') && height === 28 && width === 28 && channels === 1) assert.ok(!skipped.has('fid'), `FID skipped: ${JSON.stringify(report.skipped)}`);

      for (const metric of EVAL_METRICS) {
        const section = report[metric];
        if (!declared.has(metric)) {
          assert.equal(section, undefined, `${family} does not declare '${metric}', but the report has ${JSON.stringify(section)}`);
          continue;
        }
        if (skipped.has(metric)) {
          assert.equal(section, undefined, `'${metric}' is both skipped and reported`);
          continue;
        }
        assert.ok(section !== undefined, `declared metric '${metric}' is neither reported nor skipped (skipped: ${JSON.stringify(report.skipped)})`);
        const numbers = numbersIn(section, metric);
        assert.ok(numbers.length > 0, `'${metric}' has no values`);
        for (const [at, value] of numbers) assert.ok(Number.isFinite(value), `${at} = ${value}`);
      }

      // The values each declared metric is about.
      if (report.fid) {
        assert.equal(report.fid.count, COUNT);
        assert.ok(report.fid.trainVsTest >= 0);
        if (definition.evaluation.prior) {
          assert.equal(report.fid.prior, definition.evaluation.prior, 'samples are drawn from the declared prior');
          assert.ok(report.fid.samples !== undefined && report.fid.samples >= 0, `no FID of samples: ${report.fid.samplesSkipped}`);
        }
        if (declared.has('ssim')) assert.ok(report.fid.reconstructions !== undefined && report.fid.reconstructions >= 0, 'no FID of reconstructions');
      }
      if (report.kid) {
        assert.deepEqual([report.kid.count, report.kid.subsetSize], [COUNT, COUNT]);
        if (definition.evaluation.prior) assert.ok(report.kid.samples !== undefined, 'no KID of samples');
        if (declared.has('ssim')) assert.ok(report.kid.reconstructions !== undefined, 'no KID of reconstructions');
      }
      if (report.ssim) assert.ok(report.ssim.count === COUNT && report.ssim.mean >= -1 && report.ssim.mean <= 1, JSON.stringify(report.ssim));
      if (report.psnr) assert.equal(report.psnr.count, COUNT);
      if (report.elbo) assert.ok(report.elbo.kl >= 0 && report.elbo.samples === 2, JSON.stringify(report.elbo));
      if (report.latent) {
        assert.deepEqual(report.latent.classifiers.map((c) => c.classifier), ['knn']);
        for (const c of report.latent.classifiers) assert.ok(c.codes >= 0 && c.codes <= 1 && c.pixels >= 0 && c.pixels <= 1, JSON.stringify(c));
      }
      if (report.accuracy) assert.ok(report.accuracy.count === COUNT && report.accuracy.mean >= 0 && report.accuracy.mean <= 1);
      if (report.translation) {
        assert.ok(report.translation.cycleA.count > 0 && report.translation.cycleB.count > 0);
        for (const cycle of [report.translation.cycleA, report.translation.cycleB]) assert.ok(cycle.ssim >= -1 && cycle.ssim <= 1, JSON.stringify(cycle));
      }
    });
  }
});
