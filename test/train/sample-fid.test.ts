import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import { loadDataset } from '../../src/data';
import { SHIPPED_FEATURE_NETWORKS } from '../../src/eval/features/shipped';
import { TRAINING_FID_METRIC, trainingFid } from '../../src/train/sample-fid';
import { REDUCED_INCEPTION } from '../eval/features/fixture';
import { downsampledMnist } from '../models/helpers';

/** A logger that keeps its debug lines. */
function recording(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string) => void lines.push(message);
  return { logger: { error: keep, warn: keep, info: keep, debug: keep }, lines };
}

describe('train --fid: the feature network chosen by image shape, as aekit eval chooses it', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-sample-fid-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const config = (dataset: unknown) => ({ name: 'fid', outDir: dir, model: { family: 'vae' }, data: { dataset }, train: { epochs: 1, seed: 1 } });

  it('28x28 RGB (coloured MNIST) gets the coloured-MNIST classifier, whose FID of the real images themselves is 0', async () => {
    const { logger, lines } = recording();
    const spec = { name: 'colored-mnist', limit: 64 };
    const fid = await trainingFid(config(spec), { samples: 64, realImages: 64, logger });
    try {
      assert.ok(lines.some((l) => l.includes(SHIPPED_FEATURE_NETWORKS[1].file)), lines.join('\n'));
      const real = await loadDataset(spec as never, 'test', 1);
      const same = await fid.compute({ images: real.images.subarray(0, 64 * 28 * 28 * 3), count: 64, height: 28, width: 28, channels: 3 });
      assert.ok(Math.abs(same[TRAINING_FID_METRIC]) < 1e-3, `${same[TRAINING_FID_METRIC]}`);
    } finally {
      await fid.release();
    }
  });

  it('other shapes need a network: the error says to pass one with --fid; a resizing network (Inception) takes any size', async () => {
    const small = await downsampledMnist(dir, 16, 400);
    await assert.rejects(trainingFid(config(small)), (e: AekitError) => {
      assert.equal(e.code, 'BAD_ARGUMENT');
      assert.match(e.message, /no feature network for 16x16x1 images ships with aekit .*pass one with --fid <net\.onnx>, e\.g\. pytorch-fid's InceptionV3/);
      return true;
    });
    const fid = await trainingFid(config(small), { classifier: REDUCED_INCEPTION, samples: 32, realImages: 32 });
    try {
      const real = await loadDataset(small as never, 'test', 1);
      assert.ok(real.count >= 32, `${real.count} test images`);
      const same = await fid.compute({ images: real.images.subarray(0, 32 * 16 * 16), count: 32, height: 16, width: 16, channels: 1 });
      assert.ok(Math.abs(same[TRAINING_FID_METRIC]) < 1e-3, `16x16 gray through the reduced Inception (resized to 299x299, gray -> RGB): ${same[TRAINING_FID_METRIC]}`);
    } finally {
      await fid.release();
    }
  });
});
