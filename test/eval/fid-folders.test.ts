import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AekitError } from '../../src/core/errors';
import { NpzArchive, encodeNpz } from '../../src/core/npz';
import { loadMnist } from '../../src/data';
import { fidOfFolders, saveStats } from '../../src/eval/fid-folders';
import type { FolderFidResult } from '../../src/eval/fid-folders';
import { FeatureNetwork } from '../../src/eval/features/network';
import { SHIPPED_FEATURE_NETWORKS } from '../../src/eval/features/shipped';
import { featureStats, frechetDistance } from '../../src/eval/metrics/fid';
import { readStatsFile, writeStatsFile } from '../../src/eval/stats-file';
import { REDUCED_INCEPTION } from './features/fixture';
import { FID_FIXTURE_DIR, fidReference, writeMnistPngs } from './fid-fixture';

const A = path.join(FID_FIXTURE_DIR, 'a');
const B = path.join(FID_FIXTURE_DIR, 'b');

/** The tolerance of the issue: FID within 1e-4 relative of PyTorch's on the same network and images. */
const PARITY_RTOL = 1e-4;

function relative(value: number, reference: number): number {
  return Math.abs(value - reference) / Math.abs(reference);
}

async function rejectsWith(work: Promise<unknown>, code: string, pattern: RegExp, where?: RegExp): Promise<void> {
  await assert.rejects(work, (e: AekitError) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    if (where) assert.match(e.where ?? '', where);
    return true;
  });
}

describe('fidOfFolders and saveStats: FID of any two image sets, as pytorch-fid computes it', function () {
  this.timeout(120_000);
  let dir: string;
  let folders: FolderFidResult;
  let aStats: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-fid-folders-'));
    folders = await fidOfFolders(A, B, { features: REDUCED_INCEPTION, kid: true, kidSubsets: 10 });
    aStats = path.join(dir, 'a.npz');
    await saveStats(A, aStats, { features: REDUCED_INCEPTION, kid: true });
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it(`two folders: within ${PARITY_RTOL} of PyTorch with pytorch-fid's preprocessing (nested folders, mixed sizes, gray, RGBA)`, () => {
    const error = relative(folders.fid, fidReference.fid);
    assert.ok(error < PARITY_RTOL, `FID ${folders.fid} vs PyTorch ${fidReference.fid}: ${error.toExponential(2)} relative`);
    assert.deepEqual(folders.a, { path: A, kind: 'folder', count: fidReference.a.count, skipped: 1, firstImage: { height: 24, width: 24, channels: 3 } });
    assert.deepEqual(folders.b, { path: B, kind: 'folder', count: fidReference.b.count, skipped: 1, firstImage: { height: 28, width: 28, channels: 1 } });
    assert.equal(folders.network?.sha256.length, 64);
    assert.equal(folders.featureSize, fidReference.featureSize);
    assert.deepEqual(folders.warnings, []);
    assert.match(folders.smallSample ?? '', /^FID at n = 160 \(.*a\) and 150 \(.*b\) images \(fewer than 2,000\) is biased upwards.*KID \(reported beside it\) is unbiased/);
    assert.ok(folders.kid && folders.kid.subsets === 10 && folders.kid.subsetSize === 150 && Number.isFinite(folders.kid.mean));
    const t = folders.timings;
    assert.ok(t.decodeMs > 0 && t.preprocessMs > 0 && t.inferenceMs > 0 && t.statisticsMs > 0 && t.totalMs >= t.decodeMs + t.inferenceMs, JSON.stringify(t));
  });

  it("pytorch-fid's .npz: the FID numpy/scipy get from the same statistics, and within 1e-4 against a folder", async () => {
    const both = await fidOfFolders(path.join(FID_FIXTURE_DIR, 'a-pytorch-fid.npz'), path.join(FID_FIXTURE_DIR, 'b-pytorch-fid.npz'));
    assert.ok(relative(both.fid, fidReference.fid) < 1e-6, `${both.fid} vs ${fidReference.fid}`);
    assert.equal(both.network, undefined, 'no network needed for two statistics files');
    assert.deepEqual([both.a.kind, both.a.count, both.b.kind], ['pytorch-fid-stats', undefined, 'pytorch-fid-stats']);
    assert.equal(both.smallSample, undefined, 'n is not recorded in pytorch-fid files');
    const mixed = await fidOfFolders(A, path.join(FID_FIXTURE_DIR, 'b-pytorch-fid.npz'), { features: REDUCED_INCEPTION });
    assert.ok(relative(mixed.fid, fidReference.fid) < PARITY_RTOL, `${mixed.fid}`);
    assert.equal(mixed.warnings.length, 1);
    assert.match(mixed.warnings[0], /b-pytorch-fid\.npz holds pytorch-fid statistics \(mu, sigma\) without provenance: aekit cannot check that they were computed with .*reduced-inception\.onnx/);
    assert.match(mixed.smallSample ?? '', /n = 160 \(.*\) and not recorded \(.*b-pytorch-fid\.npz\) images/);
  });

  it('saveStats writes the .npz numpy read (float64 mu and sigma, float32 features, aekit.json), byte for byte in its headers', async () => {
    const numpy = fidReference.aekitNpzInNumpy;
    assert.deepEqual(numpy.files, ['mu', 'sigma', 'features', 'aekit.json']);
    assert.deepEqual(numpy.arrays.mu, { dtype: 'float64', shape: [128], fortranOrder: false });
    assert.deepEqual(numpy.arrays.sigma, { dtype: 'float64', shape: [128, 128], fortranOrder: false });
    assert.deepEqual(numpy.arrays.features, { dtype: 'float32', shape: [160, 128], fortranOrder: false });
    assert.ok(numpy.statsMatchFeatures && numpy.relativeToReference < PARITY_RTOL, 'numpy: mean/cov of the features are mu/sigma; pytorch-fid formula on them matches PyTorch');

    const written = NpzArchive.open(await fs.readFile(aStats), aStats);
    const committed = NpzArchive.open(await fs.readFile(path.join(FID_FIXTURE_DIR, 'a-aekit.npz')), 'a-aekit.npz');
    const npyHeader = (archive: NpzArchive, name: string) => {
      const bytes = encodeNpz({ [name]: archive.array(name) });
      return Buffer.from(bytes).toString('latin1').match(/\{'descr'[^\n]*\n/)![0];
    };
    for (const name of ['mu', 'sigma', 'features']) {
      assert.equal(npyHeader(written, name), npyHeader(committed, name), name);
      const [w, c] = [written.array(name).data, committed.array(name).data];
      for (let i = 0; i < c.length; i++) assert.ok(Math.abs(w[i] - c[i]) <= 1e-6 * (Math.abs(c[i]) + 1e-3), `${name}[${i}]: ${w[i]} vs ${c[i]}`);
    }
    const read = await readStatsFile(aStats);
    assert.equal(read.kind, 'aekit');
    assert.deepEqual([read.count, read.featureSize, read.features?.length], [160, 128, 160 * 128]);
    assert.equal(read.provenance?.network.path, REDUCED_INCEPTION);
    assert.equal(read.provenance?.source.folder, A);
    assert.equal(read.provenance?.source.skipped, 1);
    await rejectsWith(saveStats(A, aStats, { features: REDUCED_INCEPTION }), 'ALREADY_EXISTS', /refusing to overwrite.*--force/, /a\.npz$/);
    await rejectsWith(saveStats(A, path.join(dir, 'a.stats'), { features: REDUCED_INCEPTION }), 'BAD_ARGUMENT', /ending in \.npz \(pytorch-fid reads statistics only from \.npz files\)/);
  });

  it("aekit's statistics stand in for their folder: the same FID and KID", async () => {
    const fromStats = await fidOfFolders(aStats, B, { features: REDUCED_INCEPTION, kid: true, kidSubsets: 10 });
    assert.ok(relative(fromStats.fid, folders.fid) < 1e-12, `${fromStats.fid} vs ${folders.fid}`);
    assert.deepEqual(fromStats.kid, folders.kid);
    assert.deepEqual(fromStats.a, { path: aStats, kind: 'aekit-stats', count: 160 });
    assert.deepEqual(fromStats.warnings, []);
    // Without --features: the network the statistics were computed with, found where it was.
    const found = await fidOfFolders(B, aStats);
    assert.equal(found.network?.path, REDUCED_INCEPTION);
    assert.ok(relative(found.fid, folders.fid) < 1e-12);
  });

  it('a folder read from PNGs scores exactly as the same images in memory (MNIST, the shipped classifier by shape)', async () => {
    const [x, y] = [path.join(dir, 'mnist-x'), path.join(dir, 'mnist-y')];
    await writeMnistPngs(x, 0, 200);
    await writeMnistPngs(y, 200, 200);
    const result = await fidOfFolders(x, y, { kid: true, kidSubsets: 5, limit: 150 });
    assert.equal(result.network?.path, SHIPPED_FEATURE_NETWORKS[0].file);
    assert.deepEqual([result.a.count, result.b.count], [150, 150]);
    const net = await FeatureNetwork.load(SHIPPED_FEATURE_NETWORKS[0].file);
    try {
      const mnist = loadMnist('test', { limit: 400 });
      const stats = async (start: number) => featureStats(await net.featuresOfData(mnist.images.subarray(start * 784, (start + 150) * 784), 150), 150, net.featureSize);
      const expected = frechetDistance(await stats(0), await stats(200));
      assert.ok(relative(result.fid, expected) < 1e-9, `${result.fid} vs ${expected}`);
    } finally {
      await net.release();
    }
    assert.match(result.smallSample ?? '', /^FID at n = 150 images per side \(fewer than 2,000\)/);
  });

  it('picks the shipped network by image shape, and says what to pass when there is none', async () => {
    const [gray, red] = [path.join(dir, 'gray'), path.join(dir, 'red')];
    await writeMnistPngs(gray, 0, 20);
    await writeMnistPngs(red, 20, 20, [1, 0, 0]);
    const colour = await fidOfFolders(red, red);
    assert.equal(colour.network?.path, SHIPPED_FEATURE_NETWORKS[1].file, '28x28 RGB: the coloured-MNIST classifier');
    assert.ok(Math.abs(colour.fid) < 1e-6, `a folder against itself: ${colour.fid}`);
    await rejectsWith(fidOfFolders(gray, red), 'BAD_ARGUMENT', /would be scored by different shipped networks: .*gray is 28x28x1 \(aekit's MNIST classifier\), .*red is 28x28x3 \(aekit's coloured-MNIST classifier\); pass one network for both with --features/);
    await rejectsWith(fidOfFolders(A, B), 'BAD_ARGUMENT', /no feature network for 24x24x3 images ships with aekit .*pass one with --features, e.g. pytorch-fid's InceptionV3 .*pytorch-fid-to-onnx\.py.*\(its first image, 24x24, decides\)/, /fixtures\/fid\/a$/);
    // b/ starts with 28x28 digits (the MNIST classifier), then holds 20x28 images it cannot take.
    await rejectsWith(fidOfFolders(B, B), 'BAD_ARGUMENT', /the feature network .*mnist-classifier\.onnx cannot score this 28x20 image: it takes 28x28 images without resizing.*pass a network for these images with --features/, /b\/field-000\.png$/);
    // Colour images read by a gray network are converted, and the result says so.
    const mixed = path.join(dir, 'mixed');
    await writeMnistPngs(mixed, 0, 10);
    await writeMnistPngs(mixed, 10, 5, [0, 1, 0]);
    const converted = await fidOfFolders(mixed, gray);
    assert.deepEqual(converted.warnings.map((w) => w.replace(dir, '<dir>')), ['<dir>/mixed: 5 colour images were read as gray (BT.601 luma): the feature network ' + SHIPPED_FEATURE_NETWORKS[0].file + ' takes 1 channel']);
  });

  it('refuses sides it cannot compare, before any feature pass, naming the side', async () => {
    await rejectsWith(fidOfFolders(A, path.join(FID_FIXTURE_DIR, 'b-pytorch-fid.npz'), { features: REDUCED_INCEPTION, kid: true }), 'BAD_ARGUMENT', /KID needs the features of both sides.*holds only mu and sigma.*--save-stats <file\.npz> --kid/, /b-pytorch-fid\.npz$/);
    const gray = path.join(dir, 'gray');
    await rejectsWith(fidOfFolders(gray, aStats, { features: SHIPPED_FEATURE_NETWORKS[0].file }), 'BAD_ARGUMENT', /these statistics were computed with network .*reduced-inception\.onnx \(sha256 [0-9a-f]{12}\.\.\.\), not .*mnist-classifier\.onnx.*not comparable; pass the same network with --features/, /a\.npz$/);
    await rejectsWith(fidOfFolders(gray, path.join(FID_FIXTURE_DIR, 'npz', 'compressed-f8.npz')), 'BAD_ARGUMENT', /expected statistics of 128 features \(the feature network .*mnist-classifier\.onnx\), found 3/, /compressed-f8\.npz$/);
    await rejectsWith(fidOfFolders(gray, path.join(FID_FIXTURE_DIR, 'npz', 'other-keys.npz')), 'BAD_DATA', /expected FID statistics: arrays 'mu' and 'sigma' \(as pytorch-fid's --save-stats writes them\), found 'mean', 'cov'/);
    await rejectsWith(fidOfFolders(A, B, { features: REDUCED_INCEPTION, dims: 2048 }), 'BAD_ARGUMENT', /--dims 2048 was asked for, but the feature network .*reduced-inception\.onnx gives 128 features/);
    await rejectsWith(fidOfFolders(A, path.join(dir, 'missing')), 'FILE_NOT_FOUND', /expected a folder of images or a statistics file \(\.npz\), found nothing/, /missing$/);
    await rejectsWith(fidOfFolders(A, path.join(A, 'set1', 'field-000.png')), 'BAD_ARGUMENT', /found another kind of file \(to score one image, put it in a folder\)/);
    const empty = path.join(dir, 'empty');
    await fs.mkdir(path.join(empty, 'sub'), { recursive: true });
    await fs.writeFile(path.join(empty, 'sub', 'notes.txt'), 'no images');
    await rejectsWith(fidOfFolders(empty, gray), 'BAD_DATA', /no images \(\.png, .*\) found under the folder \(skipped 1 other files, e\.g\. sub\/notes\.txt\)/, /empty$/);
    const one = path.join(dir, 'one');
    await writeMnistPngs(one, 0, 1);
    await rejectsWith(fidOfFolders(one, gray), 'BAD_DATA', /expected at least 2 images for FID's covariance, found 1/, /one$/);
  });

  it('statistics files: shapes, values and provenance checked on reading, naming the member', async () => {
    const file = (name: string) => path.join(dir, name);
    await fs.writeFile(file('shapes.npz'), encodeNpz({ mu: { shape: [3], data: new Float64Array(3) }, sigma: { shape: [2, 2], data: new Float64Array(4) } }));
    await rejectsWith(readStatsFile(file('shapes.npz')), 'BAD_DATA', /expected 'sigma' of shape \(3, 3\) to match 'mu' \(3,\), found \(2, 2\)/, /shapes\.npz: sigma$/);
    await fs.writeFile(file('nan.npz'), encodeNpz({ mu: { shape: [2], data: Float64Array.of(0, 1) }, sigma: { shape: [2, 2], data: Float64Array.of(1, 0, NaN, 1) } }));
    await rejectsWith(readStatsFile(file('nan.npz')), 'BAD_DATA', /expected finite values, found NaN at index 2/, /nan\.npz: sigma$/);
    await fs.writeFile(file('asymmetric.npz'), encodeNpz({ mu: { shape: [2], data: Float64Array.of(0, 1) }, sigma: { shape: [2, 2], data: Float64Array.of(1, 0.5, 0, 1) } }));
    await rejectsWith(readStatsFile(file('asymmetric.npz')), 'BAD_DATA', /expected a symmetric covariance, found sigma\[0\]\[1\] = 0\.5 but sigma\[1\]\[0\] = 0/, /asymmetric\.npz: sigma$/);
    const stats = { mu: { shape: [2], data: Float64Array.of(0, 1) }, sigma: { shape: [2, 2], data: Float64Array.of(1, 0, 0, 1) } };
    await fs.writeFile(file('provenance.npz'), encodeNpz(stats, { 'aekit.json': new TextEncoder().encode('{"format": "aekit-fid-stats", "version": 1}') }));
    await rejectsWith(readStatsFile(file('provenance.npz')), 'BAD_DATA', /expected aekit's statistics provenance, found: network: .*; count: /, /provenance\.npz: aekit\.json$/);
    await rejectsWith(readStatsFile(file('absent.npz')), 'FILE_NOT_FOUND', /cannot read the statistics file/);
    const f32 = await readStatsFile(path.join(FID_FIXTURE_DIR, 'npz', 'stored-f4.npz'));
    assert.ok(f32.stats.cov instanceof Float64Array && f32.kind === 'pytorch-fid' && f32.featureSize === 3);
    assert.ok(!existsSync(file('x.npz')));
    const network = (await readStatsFile(aStats)).provenance!.network;
    await rejectsWith(writeStatsFile(file('x.npz'), { stats: { mean: new Float64Array(3), cov: new Float64Array(9) }, network, count: 5, source: { folder: 'f', skipped: 0 } }), 'BAD_ARGUMENT', /expected statistics of 128 features, found mean 3 and cov 9 values/);
    assert.ok(!existsSync(file('x.npz')), 'nothing written');
  });
});
