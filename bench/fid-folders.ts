/**
 * The feature pass of `aekit fid` over folders of PNG files, timed by step: read + decode, resize
 * (and the rest of the network's preprocessing), inference, statistics. Two sets, written to a
 * temporary folder first (not timed):
 *
 * - 10,000 MNIST test digits, 28x28 gray, through the shipped MNIST classifier (no resize);
 * - 2,000 seeded 64x64 RGB colour fields through a network that resizes to 299x299 as pytorch-fid's
 *   InceptionV3 does: the reduced Inception of fixtures/metrics/inception (128 features, channels
 *   / 16), or with --inception <file.onnx> a full-size one (scripts/make-inception-fixture.py
 *   --full-size OUT.onnx), whose cost is that of pytorch-fid's network (--n64 to shorten it).
 *
 *   npx tsx bench/fid-folders.ts [--threads t] [--batch-size b] [--runtime ort-node-cpu] [--n28 10000] [--n64 2000] [--inception file.onnx]
 *
 * Prints the runtime, threads and batch size of each pass, images per second end to end (the
 * whole `saveStats` call: scan, decode, features, statistics, the .npz written), and the seconds
 * of each step.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { Rng } from '../src/core/rng';
import { checkSessionRuntime } from '../src/artifact/runtime';
import { loadMnist } from '../src/data';
import { saveStats } from '../src/eval/fid-folders';
import { FeatureNetwork } from '../src/eval/features/network';
import { SHIPPED_FEATURE_NETWORKS } from '../src/eval/features/shipped';

const REDUCED_INCEPTION = path.resolve(__dirname, '..', 'fixtures', 'metrics', 'inception', 'reduced-inception.onnx');

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function writePng(file: string, width: number, height: number, rgb: (x: number, y: number) => [number, number, number], gray: boolean): Promise<void> {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) png.data.set([...rgb(x, y), 255], 4 * (y * width + x));
  }
  return fs.writeFile(file, PNG.sync.write(png, gray ? { colorType: 0 } : { colorType: 2 }));
}

async function mnistFolder(dir: string, n: number): Promise<void> {
  const mnist = loadMnist('test', { limit: n });
  await fs.mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    await writePng(path.join(dir, `${String(i).padStart(5, '0')}.png`), 28, 28, (x, y) => {
      const v = Math.round(mnist.images[i * 784 + y * 28 + x] * 255);
      return [v, v, v];
    }, true);
  }
}

/** Smooth random colour fields with a little noise: structured like photos, not like white noise. */
async function colourFolder(dir: string, n: number, size: number): Promise<void> {
  const rng = Rng.derive(0, 'bench-fid-folders');
  await fs.mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const uniform = (low: number, high: number) => low + (high - low) * rng.next();
    const waves = Array.from({ length: 3 }, () => Array.from({ length: 3 }, () => [uniform(0.1, 0.4), uniform(0.5, 4), uniform(0.5, 4), uniform(0, 6.3)]));
    await writePng(path.join(dir, `${String(i).padStart(5, '0')}.png`), size, size, (x, y) => {
      const channel = (c: number) => {
        const field = waves[c].reduce((s, [a, fx, fy, phase]) => s + a * Math.sin(2 * Math.PI * ((fx * x) / size + (fy * y) / size) + phase), 0);
        return Math.max(0, Math.min(255, Math.round((0.5 + field + 0.05 * rng.normal()) * 255)));
      };
      return [channel(0), channel(1), channel(2)];
    }, false);
  }
}

async function main(): Promise<void> {
  const threads = flag('threads') === undefined ? undefined : Number(flag('threads'));
  const batchSize = flag('batch-size') === undefined ? undefined : Number(flag('batch-size'));
  const runtime = checkSessionRuntime(flag('runtime') ?? 'ort-node-cpu');
  const n28 = Number(flag('n28') ?? 10_000);
  const n64 = Number(flag('n64') ?? 2_000);
  const inception = flag('inception') ?? REDUCED_INCEPTION;
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-bench-fid-folders-'));
  try {
    const sets = [
      { name: `${n28} MNIST digits, 28x28 gray PNG`, folder: path.join(tmp, 'mnist'), make: (d: string) => mnistFolder(d, n28), network: SHIPPED_FEATURE_NETWORKS[0].file, shape: { height: 28, width: 28, channels: 1 } },
      { name: `${n64} colour fields, 64x64 RGB PNG`, folder: path.join(tmp, 'rgb64'), make: (d: string) => colourFolder(d, n64, 64), network: inception, shape: { height: 64, width: 64, channels: 3 } },
    ];
    const lines = [`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at start`];
    for (const set of sets) {
      await set.make(set.folder);
      // The batch size the pass runs with (the given one, else what FEATURE_BATCH_VALUES allows).
      const probe = await FeatureNetwork.load(set.network, { runtime, threads, batchSize });
      const batch = probe.rowsPerRun(set.shape);
      const fed = probe.extraction.size ? `${probe.extraction.size.height}x${probe.extraction.size.width}` : 'own size';
      await probe.release();
      const saved = await saveStats(set.folder, path.join(tmp, `${path.basename(set.folder)}.npz`), { features: set.network, runtime, threads, batchSize });
      const t = saved.timings;
      const count = saved.provenance.count;
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      lines.push(
        `${set.name} -> ${path.relative(process.cwd(), set.network)} (fed at ${fed}, ${saved.provenance.network.featureSize} features)`,
        `  runtime ${runtime}, threads ${threads ?? 'onnxruntime default (one per physical core)'}, batch ${batch}`,
        `  ${count} images in ${s(t.totalMs)}: ${Math.round(count / (t.totalMs / 1000))} images/s end to end`,
        `  read + decode ${s(t.decodeMs)}, resize/preprocess ${s(t.preprocessMs)}, inference ${s(t.inferenceMs)}, statistics ${s(t.statisticsMs)}, other (scan, .npz write) ${s(t.totalMs - t.decodeMs - t.preprocessMs - t.inferenceMs - t.statisticsMs)}`,
      );
    }
    lines.push(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at end`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
