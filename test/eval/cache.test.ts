/**
 * A FID statistics cache entry is used only when its numbers are the ones written and are a mean
 * and a covariance (issue 16: an entry with `null` in its covariance was read as 0, FID 39.67
 * instead of 61.03; one with cov[0] = -1e6 gave FID -999800). Anything else is recomputed with a
 * warning saying why. Real network (the shipped MNIST classifier), real MNIST features, real files.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadMnist } from '../../src/data/mnist';
import { sha256Float64 } from '../../src/eval/cache';
import { FeatureNetwork } from '../../src/eval/features/network';
import { DEFAULT_FID_CLASSIFIER, referenceStats } from '../../src/eval/fid-features';
import type { ReferenceStats } from '../../src/eval/fid-features';
import { covarianceProblem, frechetDistance } from '../../src/eval/metrics/fid';

const N = 300;

describe('eval/cache: FID statistics are checked when read back', function () {
  this.timeout(120_000);
  let dir: string;
  let net: FeatureNetwork;
  let computed = 0;
  let testFeatures: Float32Array;
  let trainStats: ReferenceStats['stats'];
  const warnings: string[] = [];
  const logger = { error() {}, info() {}, debug() {}, warn: (m: string) => warnings.push(m) };
  const key = { data: { dataset: { name: 'mnist' }, split: 'test', count: N } };
  const compute = async () => {
    computed += 1;
    return testFeatures;
  };
  const read = (cacheDir: string, withFeatures = false) => referenceStats(net, key, cacheDir, compute, logger, withFeatures);

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-fid-cache-'));
    net = await FeatureNetwork.load(DEFAULT_FID_CLASSIFIER);
    const shape = { height: 28, width: 28, channels: 1 as const };
    testFeatures = await net.features(loadMnist('test', { limit: N }).images, N, shape, 'NHWC', 'unit');
    const train = loadMnist('train', { limit: N });
    const stats = await referenceStats(net, { data: { split: 'train' } }, dir, () => net.features(train.images, N, shape, 'NHWC', 'unit'));
    trainStats = stats.stats;
  });
  after(async () => {
    await net.release();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** A cache with a fresh entry; `damage` edits its JSON; returns the FID read back and whether it came from the cache. */
  async function afterDamage(name: string, damage: (entry: Record<string, unknown>) => void, withFeatures = false): Promise<{ fid: number; cached: boolean; fresh: number; warned: string }> {
    const cacheDir = path.join(dir, name);
    const first = await read(cacheDir, withFeatures);
    assert.equal(first.cached, false);
    const entry = JSON.parse(await fs.readFile(first.file, 'utf8')) as Record<string, unknown>;
    damage(entry);
    await fs.writeFile(first.file, JSON.stringify(entry));
    warnings.length = 0;
    const before = computed;
    const again = await read(cacheDir, withFeatures);
    const rewritten = await read(cacheDir, withFeatures);
    assert.equal(rewritten.cached, true, 'the recomputed entry is written back and read next time');
    assert.equal(frechetDistance(trainStats, again.stats), frechetDistance(trainStats, first.stats));
    return { fid: frechetDistance(trainStats, again.stats), cached: again.cached, fresh: computed - before, warned: warnings.join('\n') };
  }

  it('a clean entry is read back with the FID it was written with', async () => {
    const cacheDir = path.join(dir, 'clean');
    const first = await read(cacheDir, true);
    const second = await read(cacheDir, true);
    assert.equal(second.cached, true);
    assert.equal(frechetDistance(trainStats, second.stats), frechetDistance(trainStats, first.stats));
    assert.ok(second.features?.every((v, i) => v === testFeatures[i]));
    const entry = JSON.parse(await fs.readFile(first.file, 'utf8'));
    assert.equal(entry.statsSha256, sha256Float64(first.stats.mean, first.stats.cov));
  });

  it('null in the covariance (a NaN through JSON) is recomputed, not read as 0', async () => {
    const result = await afterDamage('null', (entry) => {
      (entry.cov as unknown[])[5] = null;
    });
    assert.deepEqual([result.cached, result.fresh], [false, 1]);
    assert.match(result.warned, /invalid FID statistics cache entry \(it will be rewritten\): .*: cov\[5\] is null, not a finite number/);
  });

  it('a negative variance (cov[0] = -1e6) is recomputed, not turned into a negative FID', async () => {
    const result = await afterDamage('negative', (entry) => {
      (entry.cov as number[])[0] = -1e6;
    });
    assert.deepEqual([result.cached, result.fresh], [false, 1]);
    assert.ok(result.fid > 0);
    assert.match(result.warned, /statsSha256 does not match/);
  });

  it('entries without a digest (older aekit) are still checked: a negative variance, an asymmetric pair, a negative eigenvalue', async () => {
    const d = net.featureSize;
    const cases: [string, (cov: number[]) => void, RegExp][] = [
      ['variance', (cov) => (cov[0] = -1e6), /cov is variance \[0\]\[0\] is negative \(-1000000\)/],
      ['asymmetric', (cov) => (cov[1] += 1), /cov is not symmetric: \[0\]\[1\] is/],
      // A valid variance pair made inconsistent: |cov01| > sqrt(cov00 cov11) has a negative eigenvalue.
      ['eigenvalue', (cov) => (cov[1] = cov[d] = 10 * Math.sqrt(cov[0] * cov[d + 1]) + 1), /cov is not positive semi-definite: its smallest eigenvalue is -\d/],
    ];
    for (const [name, damage, pattern] of cases) {
      const result = await afterDamage(`old-${name}`, (entry) => {
        delete entry.statsSha256;
        damage(entry.cov as number[]);
      });
      assert.deepEqual([result.cached, result.fresh], [false, 1], name);
      assert.match(result.warned, pattern, name);
    }
  });

  it('a changed number that still looks like a covariance is caught by the digest', async () => {
    const result = await afterDamage('mean', (entry) => {
      (entry.mean as number[])[3] += 0.5;
    });
    assert.deepEqual([result.cached, result.fresh], [false, 1]);
    assert.match(result.warned, /its numbers differ from those written \(statsSha256 does not match\)/);
  });

  it('cached features (KID) whose bytes changed are recomputed', async () => {
    const cacheDir = path.join(dir, 'features');
    const first = await read(cacheDir, true);
    const featuresFile = first.file.replace(/\.json$/, '.f32');
    const bytes = await fs.readFile(featuresFile);
    bytes.writeFloatLE(1234.5, 40);
    await fs.writeFile(featuresFile, bytes);
    warnings.length = 0;
    const before = computed;
    const again = await read(cacheDir, true);
    assert.equal(again.cached, false);
    assert.equal(computed - before, 1);
    assert.match(warnings.join('\n'), /ignoring cached features whose bytes differ from those written/);
    assert.ok(again.features?.every((v, i) => v === testFeatures[i]));
  });

  it('covarianceProblem accepts the singular covariances real features give (n < d)', () => {
    const d = net.featureSize;
    const few = 20;
    const rows = testFeatures.subarray(0, few * d);
    const mean = new Float64Array(d);
    for (let r = 0; r < few; r++) for (let j = 0; j < d; j++) mean[j] += rows[r * d + j] / few;
    const cov = new Float64Array(d * d);
    for (let r = 0; r < few; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] += ((rows[r * d + i] - mean[i]) * (rows[r * d + j] - mean[j])) / (few - 1);
    assert.equal(covarianceProblem(cov, d), undefined);
  });
});
