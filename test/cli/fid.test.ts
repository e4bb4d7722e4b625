import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REDUCED_INCEPTION } from '../eval/features/fixture';
import { FID_FIXTURE_DIR, fidReference, writeMnistPngs } from '../eval/fid-fixture';
import { runCli } from './cli-helpers';

const A = path.join(FID_FIXTURE_DIR, 'a');
const B = path.join(FID_FIXTURE_DIR, 'b');

function relative(value: number, reference: number): number {
  return Math.abs(value - reference) / Math.abs(reference);
}

describe('aekit fid: pytorch-fid\'s command line', function () {
  this.timeout(240_000);
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-cli-fid-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('aekit fid samplesA/ samplesB/: n per side, the network, FID within 1e-4 of PyTorch, the sample-size warning', async () => {
    const { code, stdout, stderr } = await runCli(['fid', A, B, '--features', REDUCED_INCEPTION]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^a: .*fixtures\/fid\/a \(folder, 160 images \(1 file skipped\), first image 24x24x3\)$/m);
    assert.match(stdout, /^b: .*fixtures\/fid\/b \(folder, 150 images \(1 file skipped\), first image 28x28x1\)$/m);
    assert.match(stdout, /^feature network: .*reduced-inception\.onnx \(128 features\)$/m);
    const fid = Number(/^FID: (\S+)$/m.exec(stdout)?.[1]);
    assert.ok(relative(fid, fidReference.fid) < 1e-4, `${fid} vs ${fidReference.fid}`);
    assert.match(stdout, /^warning: FID at n = 160 \(.*\) and 150 \(.*\) images \(fewer than 2,000\) is biased upwards/m);
    assert.match(stderr, /read 160 images from .*fixtures\/fid\/a \(unlabelled\); skipped 1: not an image: 1 \(\.txt 1\)/);
  });

  it("--save-stats in pytorch-fid's order and in aekit's; aekit fid samples/ ref.npz; --json; pytorch-fid's own .npz", async () => {
    const ref = path.join(dir, 'ref.npz');
    const saved = await runCli(['fid', '--save-stats', A, ref, '--features', REDUCED_INCEPTION]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, /^wrote .*ref\.npz: mu \(128\) and sigma \(128x128\) of 160 images from .*fixtures\/fid\/a, feature network .*reduced-inception\.onnx$/m);
    const again = await runCli(['fid', A, '--save-stats', ref, '--features', REDUCED_INCEPTION, '--kid']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^aekit: .*ref\.npz: refusing to overwrite an existing file; use force \(--force\) to replace it$/m);
    const forced = await runCli(['fid', A, '--save-stats', ref, '--features', REDUCED_INCEPTION, '--kid', '--force', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    const provenance = JSON.parse(forced.stdout) as { file: string; count: number; features: boolean; network: { featureSize: number } };
    assert.deepEqual([provenance.file, provenance.count, provenance.features, provenance.network.featureSize], [ref, 160, true, 128]);

    // The network the statistics name is found without --features; KID from the stored features.
    const scored = await runCli(['fid', B, ref, '--kid', '--kid-subsets', '5', '--json']);
    assert.equal(scored.code, 0, scored.stderr);
    const result = JSON.parse(scored.stdout) as { fid: number; kid: { subsets: number }; a: { count: number }; b: { kind: string; count: number }; network: { path: string }; smallSample: string };
    assert.ok(relative(result.fid, fidReference.fid) < 1e-4, `${result.fid}`);
    assert.deepEqual([result.a.count, result.b.kind, result.b.count, result.kid.subsets], [150, 'aekit-stats', 160, 5]);
    assert.equal(result.network.path, REDUCED_INCEPTION);
    assert.match(result.smallSample, /KID \(reported beside it\) is unbiased/);

    const theirs = await runCli(['fid', path.join(FID_FIXTURE_DIR, 'a-pytorch-fid.npz'), path.join(FID_FIXTURE_DIR, 'b-pytorch-fid.npz')]);
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.match(theirs.stdout, /^a: .*a-pytorch-fid\.npz \(pytorch-fid statistics, n not recorded\)$/m);
    assert.match(theirs.stdout, /^features: 128 \(both sides are statistics files\)$/m);
    assert.ok(relative(Number(/^FID: (\S+)$/m.exec(theirs.stdout)?.[1]), fidReference.fid) < 1e-6, theirs.stdout);
  });

  it('errors name the path or flag and say what to do, without a stack', async () => {
    const gray = path.join(dir, 'gray');
    await writeMnistPngs(gray, 0, 4);
    const cases: [string[], RegExp][] = [
      [['fid', A], /expected two paths to compare .*found 1; to write the statistics of one folder, add --save-stats <file\.npz>/],
      [['fid', A, B], /fixtures\/fid\/a: no feature network for 24x24x3 images ships with aekit .*pass one with --features, e\.g\. pytorch-fid's InceptionV3 as ONNX, made with `python3 scripts\/pytorch-fid-to-onnx\.py --out inception\.onnx`/],
      [['fid', A, path.join(dir, 'nothing')], /nothing: expected a folder of images or a statistics file \(\.npz\), found nothing/],
      [['fid', A, B, '--features', REDUCED_INCEPTION, '--dims', '2048'], /--dims 2048 was asked for, but the feature network .* gives 128 features/],
      [['fid', gray, path.join(FID_FIXTURE_DIR, 'b-pytorch-fid.npz'), '--kid'], /b-pytorch-fid\.npz: KID needs the features of both sides/],
      [['fid', gray, gray, '--ep', 'cpu', '--device', 'cuda'], /give one of --runtime, --ep and --device, found --ep and --device/],
      [['fid', gray, gray, '--device', 'cuda:1'], /--device: expected cpu, cuda or cuda:0/],
      [['fid', gray, '--save-stats', path.join(dir, 'stats.json')], /stats\.json: expected a statistics file name ending in \.npz/],
    ];
    for (const [args, pattern] of cases) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 1, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, pattern, args.join(' '));
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    }
    const help = await runCli(['fid', '--help']);
    assert.match(help.stdout, /python -m pytorch_fid --save-stats real\/ ref\.npz\s+->\s+aekit fid --save-stats real\/ ref\.npz --features inception\.onnx/);
  });
});
