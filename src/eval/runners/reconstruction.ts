/** SSIM and PSNR of the test images' reconstructions against the test images. */
import { meanPsnr } from '../metrics/psnr';
import { meanSsim } from '../metrics/ssim';
import type { MetricResults } from '../report-types';
import { wants } from './runner';
import type { MetricRunner } from './runner';

/** SSIM and PSNR (mean over the first `count` test images). */
export const reconstructionRunner: MetricRunner = {
  metrics: ['ssim', 'psnr'],
  needs: (setup) => ({ reconstructions: setup.counts.count }),
  async run(ctx) {
    const { reconstructions, testImages, shape } = ctx;
    const { count } = ctx.counts;
    const out: MetricResults = {};
    if (!reconstructions || ctx.reconCount !== count) return out;
    if (wants(ctx, 'ssim')) {
      out.ssim = await ctx.stages.timed('ssim', async () => ({ mean: meanSsim(testImages, reconstructions, count, shape.height, shape.width, shape.channels), count }));
    }
    if (wants(ctx, 'psnr')) {
      out.psnr = await ctx.stages.timed('psnr', async () => ({ mean: meanPsnr(testImages, reconstructions, count, shape.height, shape.width, shape.channels), count }));
    }
    return out;
  },
};
