/** Cycle consistency of an unpaired translation model (cyclegan): SSIM and PSNR of A -> B -> A and B -> A -> B. */
import { AekitError } from '../../core/errors';
import { loadDataset, parseDatasetSpec } from '../../data/registry';
import type { DatasetSpec } from '../../data/registry';
import { rowsOf } from '../context';
import type { EvalContext } from '../context';
import { fromArtifactImages, toArtifactImages } from '../images';
import { meanPsnr } from '../metrics/psnr';
import { meanSsim } from '../metrics/ssim';
import type { TranslationDirection } from '../model-io';
import { FIGURE_SIZES } from '../options';
import type { TranslationReport } from '../report-types';
import type { LoadedTarget } from '../target';
import type { MetricRunner } from './runner';

/** Why a target has no domain B: it is the run config that names it. */
const NO_DOMAIN_B = "the translation metrics need domain B's dataset (model.domainB) from the run's config.json, and the target is not in a run folder";

/** Round trips of the first `count` test images of each domain through both generators. */
export const translationRunner: MetricRunner = {
  metrics: ['translation'],
  dataProblem: (data) => (domainB(data.target) ? undefined : NO_DOMAIN_B),
  async run(ctx) {
    const spec = domainB(ctx.target);
    return spec ? { translation: await translationReport(ctx, spec) } : {};
  },
};

/**
 * Domain B of a translation model: its run config's `model.domainB` (the second dataset the
 * trainer loads, see `FamilyModel.domainB`) without the run's `limit`, like domain A; undefined
 * outside a run folder.
 */
function domainB(target: LoadedTarget): DatasetSpec | undefined {
  const raw = target.runModel?.domainB;
  if (raw === undefined) return undefined;
  const where = `${target.runConfigPath ?? target.source}: model.domainB`;
  if (typeof raw !== 'object' || raw === null) return parseDatasetSpec(raw, where);
  const { limit: _limit, ...whole } = raw as Record<string, unknown>;
  return parseDatasetSpec(whole, where);
}

/** SSIM and PSNR of each domain's round trip A -> B -> A and B -> A -> B, and the figure's rows. */
async function translationReport(ctx: EvalContext, domainBSpec: DatasetSpec): Promise<TranslationReport> {
  const { io, shape, imageSize, stages } = ctx;
  const { count } = ctx.counts;
  const testB = await stages.timed('load domain B', () => loadDataset(domainBSpec, 'test', ctx.dataSeed));
  for (const field of ['height', 'width', 'channels'] as const) {
    if (testB[field] !== shape[field]) {
      throw new AekitError('BAD_DATA', `domain B has images with ${field} = ${testB[field]}, domain A (and the model) ${field} = ${shape[field]}`, {
        where: `${ctx.target.runConfigPath ?? ctx.target.source}: model.domainB`,
      });
    }
  }
  const range = io.translators!.AB.info.valueRange;
  const roundTrip = async (domain: 'A' | 'B', images: Float32Array, n: number) => {
    const [there, back]: TranslationDirection[] = domain === 'A' ? ['AB', 'BA'] : ['BA', 'AB'];
    const run = (direction: TranslationDirection, nchw: Float32Array) => {
      const stage = `translate ${domain} ${direction === 'AB' ? 'A -> B' : 'B -> A'}`;
      return stages.timed(stage, () => io.translate(direction, nchw, n, stages.progress(stage)));
    };
    const translated = await run(there, toArtifactImages(images, n, shape, range));
    const cycled = fromArtifactImages(await run(back, translated), n, shape, range);
    const cycle = await stages.timed(`ssim and psnr of ${domain === 'A' ? 'A -> B -> A' : 'B -> A -> B'}`, async () => ({
      count: n,
      ssim: meanSsim(images, cycled, n, shape.height, shape.width, shape.channels),
      psnr: meanPsnr(images, cycled, n, shape.height, shape.width, shape.channels),
    }));
    return { cycle, rows: [images, fromArtifactImages(translated, n, shape, range), cycled] };
  };
  const a = await roundTrip('A', ctx.testImages, count);
  const countB = Math.min(count, testB.count);
  const b = await roundTrip('B', rowsOf(testB.images, imageSize, countB), countB);
  if (ctx.drawFigures) {
    const columns = Math.min(count, countB, FIGURE_SIZES.translations);
    const images = new Float32Array(6 * columns * imageSize);
    [...a.rows, ...b.rows].forEach((row, r) => images.set(row.subarray(0, columns * imageSize), r * columns * imageSize));
    ctx.figures.translations = { images, count: 6 * columns, columns };
  }
  return { domainB: domainBSpec, cycleA: a.cycle, cycleB: b.cycle };
}
