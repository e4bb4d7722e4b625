import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePng } from '../../src/core/image-io';
import { tf } from '../../src/core/tfjs-backend';
import { loadDataset } from '../../src/data';
import { REPORT_FILES, evaluate, formatReportTable, meanPsnr, meanSsim, reportJson, writeReport } from '../../src/eval';
import { getFamily } from '../../src/models';
import type { CycleGan } from '../../src/models/cyclegan';
import { loadCheckpoint } from '../../src/run/checkpoint';
import { tintedMnistFolder } from '../models/helpers';
import { rejectsWith, tinyRun } from './helpers';

/** Images per domain: 10% of them (12) are each domain's test images. */
const DOMAIN_IMAGES = 120;
/** Image side: SSIM's 11x11 Gaussian window needs at least 11. */
const SIZE = 16;

describe('eval: translation metrics of a cyclegan', function () {
  this.timeout(120_000);
  let dir: string;
  let run: string;
  let warm: Awaited<ReturnType<typeof tintedMnistFolder>>;
  let cool: Awaited<ReturnType<typeof tintedMnistFolder>>;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-eval-cyclegan-'));
    // Coloured MNIST at 16x16 as two folders (the colour study's domains, small): A warm, B cool.
    warm = await tintedMnistFolder(dir, 'warm', SIZE, DOMAIN_IMAGES, 1);
    cool = await tintedMnistFolder(dir, 'cool', SIZE, DOMAIN_IMAGES, 2);
    const model = { ...getFamily('cyclegan').tinyConfig, domainB: cool, lambdaIdentity: 0 };
    run = await tinyRun(dir, 'cyclegan', model, { dataset: warm, valueRange: 'symmetric' }, { stepsPerEpoch: 4, batchSize: 8, learningRate: 2e-4 });
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('SSIM and PSNR of A -> B -> A and B -> A -> B on both test splits, as tfjs computes them; table, JSON, translated-image grid', async () => {
    const report = await evaluate(run, { count: 16 });
    assert.equal(report.target.family, 'cyclegan');
    assert.deepEqual(Object.keys(report.target.parts).sort(), ['generatorAB', 'generatorBA']);
    assert.deepEqual(report.skipped, []);
    const t = report.translation!;
    assert.deepEqual(t.domainB, cool);
    // 12 test images per domain (fewer than the 16 asked for).
    assert.deepEqual([t.cycleA.count, t.cycleB.count], [12, 12]);

    // The same round trips through the trained tfjs generators give the same figures.
    const loaded = await loadCheckpoint(run);
    try {
      const model = loaded.model as CycleGan;
      for (const [spec, cycle, there, back] of [[warm, t.cycleA, 'AB', 'BA'], [cool, t.cycleB, 'BA', 'AB']] as const) {
        const data = await loadDataset(spec, 'test', 0);
        const cycled = tf.tidy(() => {
          const x = tf.sub(tf.mul(tf.tensor4d(data.images, [data.count, SIZE, SIZE, 3]), 2), 1) as tf.Tensor4D;
          return tf.div(tf.add(model.translate(model.translate(x, there), back), 1), 2).dataSync() as Float32Array;
        });
        assert.ok(Math.abs(meanSsim(data.images, cycled, data.count, SIZE, SIZE, 3) - cycle.ssim) < 1e-3, `ssim ${cycle.ssim}`);
        assert.ok(Math.abs(meanPsnr(data.images, cycled, data.count, SIZE, SIZE, 3) - cycle.psnr) < 1e-2, `psnr ${cycle.psnr}`);
      }
    } finally {
      loaded.model.dispose();
    }

    const table = formatReportTable(report);
    assert.match(table, /SSIM \(cycle A -> B -> A\)\s+-?[\d.]+\s+mean of 12, .*mnist-warm-16/);
    assert.match(table, /PSNR \(cycle B -> A -> B\)\s+[\d.]+ dB\s+mean of 12, .*mnist-cool-16/);
    const out = path.join(dir, 'report');
    const files = (await writeReport(out, report)).map((f) => path.basename(f)).sort();
    assert.deepEqual(files, [REPORT_FILES.json, REPORT_FILES.markdown, REPORT_FILES.translations].sort());
    // Rows A, A -> B, A -> B -> A, B, B -> A, B -> A -> B of 8 images, 16x16 at scale 2 with 2-pixel gaps.
    const grid = decodePng(await fs.readFile(path.join(out, REPORT_FILES.translations)));
    assert.deepEqual([grid.width, grid.height], [8 * 32 + 9 * 2, 6 * 32 + 7 * 2]);
    const json = JSON.parse(await fs.readFile(path.join(out, REPORT_FILES.json), 'utf8'));
    assert.deepEqual(json.translation, JSON.parse(JSON.stringify(reportJson(report).translation)));
    assert.match(await fs.readFile(path.join(out, REPORT_FILES.markdown), 'utf8'), /domain B: .*mnist-cool-16/);
  });

  it('artifacts without their run config: translation skipped with the reason; other families\' metrics are errors', async () => {
    const loose = path.join(dir, 'loose');
    await fs.cp(path.join(run, 'onnx'), loose, { recursive: true });
    const report = await evaluate(loose, { data: warm.path, count: 8 });
    assert.equal(report.translation, undefined);
    assert.deepEqual(report.skipped.map((s) => s.metric), ['translation']);
    assert.match(report.skipped[0].reason, /need domain B's dataset \(model\.domainB\) from the run's config\.json/);
    await rejectsWith(evaluate(loose, { data: warm.path, metrics: ['translation'] }), 'BAD_ARGUMENT', /--translation does not apply: the translation metrics need domain B's dataset/);
    await rejectsWith(evaluate(run, { metrics: ['ssim'] }), 'BAD_ARGUMENT', /--ssim does not apply: family 'cyclegan' does not support reconstruction metrics \(its evaluation: translation\)/);
  });
});
