/**
 * FID of 10,000 generated images end to end, timed by stage: draw codes from N(0, I), run the
 * decoder artifact, run the FID classifier on the images, their feature statistics, the test
 * set's reference statistics (computed cold, then read from the cache), the Fréchet distance.
 * Target (issue 4): under 10 s on the project's 2-core machine, cache warm.
 *
 *   npx tsx bench/fid.ts [--decoder file.onnx] [--classifier file.onnx] [--n 10000] [--batch 1000] [--threads t]
 *
 * Without --decoder, the decoder of the quickstart's architecture (experiments/quickstart.json) is
 * exported with seeded untrained weights; without --classifier, models/mnist-classifier.onnx, or,
 * when it is not there yet, its architecture (experiments/mnist-classifier.json) untrained. Untrained
 * weights cost exactly what trained ones do, so the timings hold; the FID value then means nothing.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../src/core/rng';
import { EXPERIMENTS_DIR } from '../src/core/paths';
import { useBackend } from '../src/core/tfjs-backend';
import { loadMnist } from '../src/data';
import { exportLayersModel } from '../src/export/export';
import { artifactMetadata } from '../src/export/run-export';
import { getFamily } from '../src/models';
import type { PartName } from '../src/models';
import { resolveRunConfig } from '../src/run/config';
import { DEFAULT_FID_CLASSIFIER, FidFeatureNet, referenceStats } from '../src/eval/fid-features';
import { OnnxModel } from '../src/eval/onnx-session';
import { featureStats, frechetDistance } from '../src/eval/metrics';

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** Export one part of an untrained model built from a recipe's architecture. */
async function untrainedPart(recipe: string, part: PartName, out: string): Promise<string> {
  const config = resolveRunConfig(JSON.parse(await fs.readFile(path.join(EXPERIMENTS_DIR, recipe), 'utf8')));
  const model = getFamily(config.model.family).build(config.model, { height: 28, width: 28, channels: 1, numClasses: 10, valueRange: 'unit' }, 0);
  try {
    const names = model.ioNames[part];
    const result = await exportLayersModel(model.parts[part]!, { part, metadata: artifactMetadata(model, 'bench-untrained', 'mnist'), inputNames: names?.inputs, outputNames: names?.outputs });
    const file = path.join(out, `${part}.onnx`);
    await fs.writeFile(file, result.bytes);
    return file;
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  const n = Number(flag('n') ?? 10_000);
  const batchSize = Number(flag('batch') ?? 1000);
  const threads = flag('threads') === undefined ? undefined : Number(flag('threads'));
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aekit-bench-fid-'));
  try {
    await useBackend('cpu');
    const decoderFile = flag('decoder') ?? (await untrainedPart('quickstart.json', 'decoder', tmp));
    const shipped = existsSync(DEFAULT_FID_CLASSIFIER);
    const classifierFile = flag('classifier') ?? (shipped ? DEFAULT_FID_CLASSIFIER : await untrainedPart('mnist-classifier.json', 'classifier', tmp));
    const classifierName = flag('classifier') ?? (shipped ? path.relative(process.cwd(), DEFAULT_FID_CLASSIFIER) : 'mnist-classifier.json architecture, untrained (the shipped one is not there yet)');

    const times: [string, number][] = [];
    const time = async <T>(stage: string, work: () => Promise<T> | T): Promise<T> => {
      const t0 = performance.now();
      const result = await work();
      times.push([stage, (performance.now() - t0) / 1000]);
      return result;
    };
    const [decoder, net] = await time('open both sessions', () => Promise.all([OnnxModel.load(decoderFile, { batchSize, threads }), FidFeatureNet.load(classifierFile, { batchSize, threads })]));
    const test = loadMnist('test', { limit: n });
    const key = { data: { dataset: { name: 'mnist' }, split: 'test', count: test.count, seed: 0 } };
    const cacheDir = path.join(tmp, 'cache');
    const computeReference = () => net.featuresOfData(test.images, test.count);
    const cold = await time('reference stats, cold (10k test features + stats, cached)', () => referenceStats(net, key, cacheDir, computeReference));

    const start = performance.now();
    const zName = decoder.metadata.inputs[0].name;
    const latent = decoder.metadata.inputs[0].shape[1] as number;
    const images = await time(`generate: ${n} codes through the decoder`, async () => {
      const z = Rng.derive(0, 'bench-fid').normalArray(n * latent);
      const out = await decoder.run({ [zName]: { data: z, dims: [n, latent] } }, ['image']);
      return out.image.data;
    });
    const features = await time(`classifier features of ${n} images`, () => net.features(images, n, decoder.info.imageShape!, 'NCHW', decoder.metadata.valueRange));
    const stats = await time('feature statistics (float64)', () => featureStats(features, n, net.featureSize));
    const warm = await time('reference stats, warm (cache read)', () => referenceStats(net, key, cacheDir, computeReference));
    const fid = await time('Fréchet distance', () => frechetDistance(stats, warm.stats));
    const total = (performance.now() - start) / 1000;
    if (cold.cached || !warm.cached) throw new Error('expected a cold then a warm cache');
    await Promise.all([decoder.release(), net.release()]);

    const stageTime = (prefix: string) => times.filter(([s]) => s.startsWith(prefix)).reduce((sum, [, t]) => sum + t, 0);
    const lines = [
      `FID of ${n} generated images, batch ${batchSize}, ${threads ?? 'default'} threads, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`,
      `decoder: ${flag('decoder') ?? 'quickstart architecture, untrained'}; classifier: ${classifierName}, ${net.featureSize} features`,
      ...times.map(([stage, s]) => `  ${stage.padEnd(58)} ${s.toFixed(2).padStart(6)} s`),
      `end to end (generate + features + stats + cached reference + distance): ${total.toFixed(2)} s  (target < 10 s)`,
      `end to end with a cold cache (reference computed instead of read): ${(total - stageTime('reference stats, warm') + stageTime('reference stats, cold')).toFixed(2)} s`,
      `FID = ${fid.toFixed(3)}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
