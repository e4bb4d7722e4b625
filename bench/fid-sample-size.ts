/**
 * Why the report warns below 2,000 images and recommends KID there: FID and KID of real images
 * against real images at growing n, with the shipped feature networks, and what KID costs. Two
 * pairs of real sets: two disjoint random samples of the training split (one distribution: any
 * distance is sample-size bias), and the first n training vs the first n test images (what
 * `aekit eval` reports as "train vs test": MNIST's test file is ordered by writer group, so its
 * first 5,000 images are not distributed as the whole).
 *
 *   npx tsx bench/fid-sample-size.ts [--n 50,100,200,500,1000,2000,5000,10000] [--inception file.onnx --inception-n 20]
 *
 * FID of two samples of one distribution is biased upwards, by roughly tr(Σ)-scale terms over n,
 * so its real-vs-real value at small n is far from 0 and the FIDs of two models at different n
 * cannot be compared. KID is unbiased: its real-vs-real value is near 0 at any n, with a spread
 * that shrinks with n. `--inception`: also time a feature network of Inception's size (for
 * example the full-width random network of `scripts/make-inception-fixture.py --full-size`).
 */
import { loadDataset } from '../src/data';
import { FeatureNetwork } from '../src/eval/features/network';
import { SHIPPED_FEATURE_NETWORKS } from '../src/eval/features/shipped';
import { featureStats, frechetDistance } from '../src/eval/metrics/fid';
import { KID_DEFAULTS, kid } from '../src/eval/metrics/kid';
import { Rng } from '../src/core/rng';

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function seconds<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, (performance.now() - start) / 1000];
}

async function main(): Promise<void> {
  const counts = (flag('n') ?? '50,100,200,500,1000,2000,5000,10000').split(',').map(Number);
  const largest = Math.max(...counts);
  const lines: string[] = [];
  for (const shipped of SHIPPED_FEATURE_NETWORKS) {
    const spec = shipped.shape.channels === 1 ? { name: 'mnist' as const } : { name: 'colored-mnist' as const };
    const [train, test] = await Promise.all([loadDataset(spec, 'train', 0), loadDataset(spec, 'test', 0)]);
    const net = await FeatureNetwork.load(shipped.file);
    try {
      const d = net.featureSize;
      const all = await net.featuresOfData(train.images, train.count);
      const order = Rng.derive(0, 'bench-fid-sample-size').permutation(train.count);
      const pick = (from: number, n: number) => {
        const out = new Float32Array(n * d);
        for (let i = 0; i < n; i++) out.set(all.subarray(order[from + i] * d, (order[from + i] + 1) * d), i * d);
        return out;
      };
      const firstTest = await net.featuresOfData(test.images, largest);
      lines.push(`${shipped.name} (${shipped.file}), ${d} features, ${spec.name}`);
      lines.push('       n | two random training samples: FID, KID (subsets x size), KID s | first n train vs first n test: FID, KID');
      for (const n of counts) {
        const [a, b] = [pick(0, n), pick(train.count - n, n)];
        const fid = frechetDistance(featureStats(a, n, d), featureStats(b, n, d));
        const [k, s] = await seconds(() => kid(a, n, b, n, d));
        const fidEval = frechetDistance(featureStats(all.subarray(0, n * d), n, d), featureStats(firstTest.subarray(0, n * d), n, d));
        const kEval = await kid(all.subarray(0, n * d), n, firstTest.subarray(0, n * d), n, d);
        const kidText = (r: { mean: number; std: number; subsets: number }) => (r.subsets === 1 ? r.mean.toFixed(3) : `${r.mean.toFixed(3)} ± ${r.std.toFixed(3)}`);
        lines.push(
          `  ${String(n).padStart(6)} | ${fid.toFixed(2).padStart(7)}  ${kidText(k).padEnd(16)} (${k.subsets} x ${k.subsetSize})`.padEnd(58) +
            `${s.toFixed(2).padStart(6)} | ${fidEval.toFixed(2).padStart(7)}  ${kidText(kEval)}`,
        );
      }
    } finally {
      await net.release();
    }
  }
  // KID's cost at Inception's width, on random features.
  const rng = new Rng(0);
  const d = 2048;
  const n = 10_000;
  const [fa, fb] = [rng.normalArray(n * d), rng.normalArray(n * d)];
  const [k, s] = await seconds(() => kid(fa, n, fb, n, d));
  lines.push(`KID of ${n} x ${d} random features, ${k.subsets} subsets of ${k.subsetSize} (torchmetrics' defaults ${KID_DEFAULTS.subsets} x ${KID_DEFAULTS.subsetSize}): ${s.toFixed(1)} s`);

  const inception = flag('inception');
  if (inception) {
    const count = Number(flag('inception-n') ?? 20);
    const net = await FeatureNetwork.load(inception, { preprocess: flag('inception-range') ? { range: flag('inception-range') as 'symmetric' } : undefined });
    try {
      const test = await loadDataset({ name: 'colored-mnist' }, 'test', 0);
      const shape = { height: 28, width: 28, channels: 3 };
      await net.featuresOfData(test.images, 2, shape);
      const [, t] = await seconds(() => net.featuresOfData(test.images, count, shape));
      lines.push(`${inception}: ${net.featureSize} features, ${count} coloured-MNIST images resized to ${net.extraction.size?.height ?? '?'}x${net.extraction.size?.width ?? '?'}: ${t.toFixed(2)} s, ${((1000 * t) / count).toFixed(0)} ms per image`);
    } finally {
      await net.release();
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
