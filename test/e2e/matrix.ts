/**
 * The cells of the real-data matrix (real-data-matrix.test.ts): the data cases, what each family
 * can do with them (from the registry: labels, parts, value range, engines), and the steps of a
 * cell, each on real files, real onnxruntime and a real HTTP server.
 */
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { compareClose } from '../../src/core/allclose';
import type { Tolerance } from '../../src/core/allclose';
import { isAekitError } from '../../src/core/errors';
import { decodePng } from '../../src/core/image-io';
import { silentLogger } from '../../src/core/log';
import { ORT_RUNTIMES } from '../../src/artifact/runtime';
import type { DatasetSpec } from '../../src/data/registry';
import { evaluate } from '../../src/eval';
import type { EvalReport } from '../../src/eval';
import { exportRun } from '../../src/export/run-export';
import { getFamily } from '../../src/models';
import { RunFolder } from '../../src/run/run-folder';
import { startServer } from '../../src/serve';
import { ortSupportsFamily } from '../../src/train/engines';
import { train } from '../../src/train/trainer';
import type { TrainResult } from '../../src/train/trainer';
import type { MatrixSet, MatrixSetName } from '../../scripts/make-real-data-matrix';
import { runCli } from '../cli/cli-helpers';
import { EVAL_METRICS_OF } from '../eval/helpers';

/** The families of the matrix (issue 14): one of each kind (deterministic, variational, conditional, adversarial, classifier). */
export const MATRIX_FAMILIES = ['ae', 'vae', 'cvae', 'dcgan', 'classifier'] as const;

/** The `aekit latent` verbs a case runs (fit is followed by a sample from what it fitted, vector by apply). */
export type LatentVerb = 'fit' | 'sample' | 'vector' | 'interpolate' | 'scatter' | 'classify';

/** One data case: a generated set read one way, and the latent verb run on it. */
export interface DataCase {
  /** Title and run-name prefix. */
  name: string;
  set: MatrixSetName;
  /** What the case is about, for the title. */
  about: string;
  /** The run's `data.dataset`. */
  dataset(set: MatrixSet): DatasetSpec;
  /** The same source as the CLI's data flags (eval and latent read a folder at the model's size). */
  flags(set: MatrixSet): string[];
  /** The architecture a family trains with here; default its tiny config. */
  model?(family: string): Record<string, unknown>;
  /** The error a family gets on this data for a reason other than labels (e.g. a size no stride-2 stack fits). */
  refusal?(family: string): RegExp | undefined;
  latent: LatentVerb;
}

const folder = (set: MatrixSet, size: number, channels: 1 | 3): DatasetSpec => ({ name: 'folder', path: set.path, height: size, width: size, channels });

/** The image shape a case's runs see: a folder's read size, else the set's own. */
export function readShape(c: DataCase, set: MatrixSet): { height: number; width: number; channels: number } {
  const spec = c.dataset(set);
  return spec.name === 'folder' ? { height: spec.height, width: spec.width, channels: spec.channels } : { height: set.height, width: set.width, channels: set.channels };
}

/** Families whose config has an MLP architecture: what trains on images no conv stack divides. */
export function hasMlp(family: string): boolean {
  const definition = getFamily(family);
  return 'architecture' in (definition.configSchema.parse(definition.tinyConfig) as object);
}

/** The data cases, in the order of scripts/make-real-data-matrix.ts's sets (Omniglot twice: at its own size and at 28x28). */
export const DATA_CASES: readonly DataCase[] = [
  { name: 'flat', set: 'flat', about: 'a flat folder (unlabelled), 20x20 RGB read at 16x16', dataset: (s) => folder(s, 16, 3), flags: (s) => ['--data', s.path], latent: 'interpolate' },
  { name: 'single-class', set: 'single-class', about: 'a single class folder, 16x16 gray', dataset: (s) => folder(s, 16, 1), flags: (s) => ['--data', s.path], latent: 'fit' },
  { name: 'five', set: 'five', about: '5 images in 2 classes: fewer than a batch, no test image', dataset: (s) => folder(s, 16, 3), flags: (s) => ['--data', s.path], latent: 'classify' },
  { name: 'rgb64', set: 'rgb64', about: '64x64 RGB, PNG and JPEG', dataset: (s) => folder(s, 64, 3), flags: (s) => ['--data', s.path], latent: 'vector' },
  {
    name: 'omniglot105',
    set: 'omniglot105',
    about: "105x105 1-bit PNGs at their own size (MLP autoencoders; no stride-2 stack divides 105)",
    dataset: (s) => folder(s, 105, 1),
    flags: (s) => ['--data', s.path],
    model: (family) => (hasMlp(family) ? { ...getFamily(family).tinyConfig, architecture: 'mlp' } : getFamily(family).tinyConfig),
    refusal: (family) => (family === 'dcgan' ? /dcgan needs an even image height and width of at least 8 pixels \(one stride-2 layer or more\), found 105x105; resize the data/ : undefined),
    latent: 'scatter',
  },
  { name: 'omniglot28', set: 'omniglot105', about: '105x105 1-bit PNGs read at 28x28 (conv models, FID with the shipped network)', dataset: (s) => folder(s, 28, 1), flags: (s) => ['--data', s.path], latent: 'sample' },
  { name: 'mixed', set: 'mixed', about: 'every PNG variant and JPEG flavour among junk files, read at 16x16 RGB', dataset: (s) => folder(s, 16, 3), flags: (s) => ['--data', s.path], latent: 'classify' },
  {
    name: 'idx',
    set: 'idx',
    about: 'a gzipped IDX pair, 28x28',
    dataset: (s) => ({ name: 'idx', images: s.path, labels: s.labels! }),
    flags: (s) => ['--idx', s.path, '--idx-labels', s.labels!],
    latent: 'interpolate',
  },
];

/** Why a family cannot learn from a set's labels (the refusal's message), or undefined. */
export function labelRefusal(family: string, set: MatrixSet): RegExp | undefined {
  if (!getFamily(family).needsLabels || set.classNames.length >= 2) return undefined;
  const what = set.classNames.length === 0 ? 'is unlabelled: a flat folder of images \\(no class subfolders\\)' : `has one class \\('${set.classNames[0]}'\\); at least 2 are needed`;
  return new RegExp(`^model family '${family}' \\(.*\\) needs labelled images of at least 2 classes, but ${set.path} ${what}\\. Give a folder with one subfolder per class`);
}

/** A cell's run config on `engine`. */
export function runConfig(dir: string, c: DataCase, set: MatrixSet, family: string, engine: 'tfjs' | 'auto', model = c.model?.(family) ?? getFamily(family).tinyConfig): Record<string, unknown> {
  return {
    name: `${c.name}-${family}-${engine}`,
    outDir: dir,
    model,
    data: { dataset: c.dataset(set), valueRange: getFamily(family).valueRange ?? 'unit' },
    train: { epochs: 1, batchSize: 8, seed: 1, engine, logEvery: 1, backend: 'wasm' },
  };
}

/**
 * How close the two engines' epoch means must be after the same few seeded steps: both start from
 * the same weights and see the same batches, and one step agrees to 1e-4 (test/train/engines);
 * Adam's few updates may drift a little beyond that, well inside torch.onnx's rtol 1e-3.
 */
const ENGINE_AGREEMENT: Tolerance = { rtol: 2e-3, atol: 2e-4 };

/** Train a cell on tfjs and on the default engine (auto: ort where it trains the family); the two agree. Returns the default engine's run. */
export async function trainBothEngines(dir: string, c: DataCase, set: MatrixSet, family: string): Promise<TrainResult> {
  const tfjs = await train(runConfig(dir, c, set, family, 'tfjs'), { logger: silentLogger });
  const auto = await train(runConfig(dir, c, set, family, 'auto'), { logger: silentLogger });
  assert.deepEqual([tfjs.engine, auto.engine], ['tfjs', ortSupportsFamily(family) ? 'ort' : 'tfjs']);
  for (const result of [tfjs, auto]) {
    assert.equal(result.epochsDone, 1);
    assert.equal(JSON.parse(await fs.readFile(new RunFolder(result.runDir).runInfoPath, 'utf8')).status, 'finished');
  }
  const [a, b] = [tfjs.lastEpoch!.train, auto.lastEpoch!.train];
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
  const keys = Object.keys(a).sort();
  const close = compareClose(keys.map((k) => b[k]), keys.map((k) => a[k]), ENGINE_AGREEMENT);
  assert.ok(close.ok, `the engines disagree on the epoch's training figures: tfjs ${JSON.stringify(a)}, ${auto.engine} ${JSON.stringify(b)}`);
  return auto;
}

/** A training that must be refused with `pattern`, leaving no run folder. */
export async function expectRefusal(config: Record<string, unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(train(config, { logger: silentLogger }), (error: unknown) => {
    assert.ok(isAekitError(error), String(error));
    assert.match(error.message, pattern);
    return true;
  });
  assert.ok(!existsSync(path.join(String(config.outDir), String(config.name))), `${config.name}: a refused run left a folder`);
}

/** Export every part with verification on (both runtimes) into `<run>/onnx`. */
export async function exportVerified(runDir: string, family: string): Promise<string> {
  const onnxDir = path.join(runDir, 'onnx');
  const exported = await exportRun(runDir, { out: onnxDir });
  assert.deepEqual(exported.artifacts.map((a) => a.part), [...getFamily(family).exportParts]);
  for (const artifact of exported.artifacts) {
    assert.deepEqual(artifact.verify?.runtimes.map((r) => r.runtime), [...ORT_RUNTIMES], `${artifact.part} verified on every runtime`);
    assert.ok(Number.isFinite(artifact.verify!.maxAbsDiff));
  }
  return onnxDir;
}

/** Every number of a report section (nested), with its path. */
function numbersIn(value: unknown, at: string): [string, number][] {
  if (typeof value === 'number') return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbersIn(v, `${at}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbersIn(v, `${at}.${k}`));
  return [];
}

/** Evaluate a run through its folder: its own data and split; every metric its family declares is computed or skipped with a reason. */
export async function evaluateRun(runDir: string, family: string, dataset: DatasetSpec, set: MatrixSet, cacheDir: string): Promise<EvalReport> {
  const report = await evaluate(runDir, { count: 32, elboCount: 4, iwaeSamples: 2, latentClassifiers: ['knn'], figures: false, cacheDir });
  assert.equal(report.target.family, family);
  assert.deepEqual(report.dataset.spec, dataset);
  assert.equal(report.dataset.testCount + report.dataset.trainCount, set.images);
  const skipped = new Map(report.skipped.map((s) => [s.metric, s.reason]));
  for (const metric of getFamily(family).evaluation.metrics.flatMap((m) => EVAL_METRICS_OF[m])) {
    if (skipped.has(metric)) {
      assert.ok(skipped.get(metric)!.length > 20, `${metric} skipped without a reason`);
      continue;
    }
    const numbers = numbersIn(report[metric], metric);
    assert.ok(numbers.length > 0, `${metric} neither computed nor skipped`);
    for (const [at, value] of numbers) assert.ok(Number.isFinite(value), `${at} = ${value}`);
  }
  // The shipped MNIST classifier scores 28x28 gray images: there, FID must be computed, not skipped.
  const { height, width, channels, testCount } = report.dataset;
  if (getFamily(family).evaluation.metrics.includes('fid') && [height, width, channels].join('x') === '28x28x1' && testCount >= 2) {
    assert.ok(report.fid && Number.isFinite(report.fid.trainVsTest), `no FID on 28x28x1 images: ${JSON.stringify(report.skipped)}`);
  }
  return report;
}

/** The artifact a user points the latent tools at: the encoder, else the family's first part. */
export function latentArtifact(onnxDir: string, family: string): string {
  const parts = getFamily(family).exportParts;
  return path.join(onnxDir, `${parts.includes('encoder') ? 'encoder' : parts[0]}.onnx`);
}

/** One `aekit latent` command of a verb: its arguments, what it prints, and the PNG it writes. */
interface LatentStep {
  args: string[];
  stdout: RegExp;
  png?: string;
}

/** The commands of a case's latent verb on `artifact` (fit then sample, vector then apply; one for the others). */
function latentSteps(c: DataCase, set: MatrixSet, family: string, artifact: string, out: (name: string) => string): LatentStep[] {
  const source = c.flags(set);
  const { needsLabels, evaluation } = getFamily(family);
  const classes = (list: string) => (needsLabels ? ['--classes', list] : []);
  const fit: LatentStep = { args: ['fit', artifact, ...source, '--split', 'train'], stdout: /^fitted a gaussian \(1 component, full covariance\) to \d+ codes of size \d+: mean log-likelihood -?[\d.]+$/m };
  switch (c.latent) {
    case 'fit':
      return [fit, { args: ['sample', artifact, '--count', '8', ...classes('0'), '--out', out('fitted.png')], stdout: /^8 samples from .*encoder\.latent-gaussian\.json/m, png: out('fitted.png') }];
    case 'sample': {
      // A VAE's (or GAN's) own prior; a deterministic AE has none, so its codes are fitted first.
      const prior = evaluation.prior === 'standard-normal';
      const sample: LatentStep = { args: ['sample', artifact, ...(prior ? ['--distribution', 'prior'] : []), '--count', '8', ...classes('0,1'), '--out', out('samples.png')], stdout: /^8 samples from /m, png: out('samples.png') };
      return prior ? [sample] : [fit, sample];
    }
    case 'vector': {
      const [a, b] = set.classNames;
      return [
        { args: ['vector', artifact, ...source, '--groups', `${a},${b}`, '--out', out('vector.json')], stdout: new RegExp(`^vector '${a} - ${b}' from \\d+ vs \\d+ images`, 'm') },
        { args: ['apply', artifact, '--vector', out('vector.json'), ...source, '--limit', '2', '--out', out('applied.png')], stdout: /^applied '.*' to 2 images/m, png: out('applied.png') },
      ];
    }
    case 'interpolate':
      return [{ args: ['interpolate', artifact, ...source, '--split', 'train', '--pairs', '2', '--steps', '3', '--out', out('walk.png')], stdout: /^2 walks of 3 steps \(linear\)$/m, png: out('walk.png') }];
    case 'scatter':
      return [{ args: ['scatter', artifact, ...source, '--out', out('scatter.png')], stdout: /^\d+ codes of size \d+/m, png: out('scatter.png') }];
    case 'classify':
      return [{ args: ['classify', artifact, ...source, '--classifiers', 'knn'], stdout: new RegExp(`^${set.classNames.length} classes, \\d+ training and \\d+ test images \\(per-class split\\)`) }];
  }
}

/**
 * Run a case's latent verb through the built CLI on a cell's artifacts and check what it prints and
 * writes; on a family without an encoder (dcgan, classifier), check the one-line refusal.
 */
export async function runLatentVerb(c: DataCase, set: MatrixSet, family: string, onnxDir: string): Promise<void> {
  const artifact = latentArtifact(onnxDir, family);
  const steps = latentSteps(c, set, family, artifact, (name) => path.join(onnxDir, '..', 'latent', name));
  if (!getFamily(family).exportParts.includes('encoder')) {
    const result = await runCli(['latent', ...steps[0].args]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `aekit: ${artifact}: expected an encoder artifact, found part '${path.basename(artifact, '.onnx')}'; a ${family} has no encoder, and the latent tools work on the codes of images\n`);
    return;
  }
  for (const step of steps) {
    const result = await runCli(['latent', ...step.args]);
    assert.equal(result.code, 0, `aekit latent ${step.args.join(' ')}: ${result.stderr}`);
    assert.match(result.stdout, step.stdout);
    if (step.png) assert.ok(decodePng(await fs.readFile(step.png)).width > 0, step.png);
  }
}

/** Decode two latents through the server's API (labels for a conditional model); a classifier's two images are classified instead. */
export async function serveDecode(onnxDir: string, family: string, dataset: { height: number; width: number; channels: number }): Promise<void> {
  const parts = getFamily(family).exportParts;
  const server = await startServer({ models: onnxDir, port: 0, logger: silentLogger });
  try {
    const base = `http://127.0.0.1:${server.port}/v1/models`;
    const { models } = (await (await fetch(base)).json()) as { models: { name: string; latentSize: number; numClasses?: number; operations: string[] }[] };
    assert.equal(models.length, 1);
    const [model] = models;
    if (!parts.includes('decoder') && !parts.includes('generator')) {
      assert.deepEqual(model.operations, ['classify']);
      const size = dataset.channels * dataset.height * dataset.width;
      const images = [0, 1].map((r) => Array.from({ length: size }, (_, i) => (1 + Math.sin(1 + r + i)) / 2));
      const response = await fetch(`${base}/${model.name}/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ images }) });
      const answer = (await response.json()) as { label: number[]; probabilities: number[][] };
      assert.equal(response.status, 200, JSON.stringify(answer));
      assert.equal(answer.label.length, 2);
      for (const p of answer.probabilities) assert.ok(p.length === model.numClasses && Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5, JSON.stringify(p));
      return;
    }
    const z = [0, 1].map((r) => Array.from({ length: model.latentSize }, (_, i) => Math.sin(1 + r + i)));
    const body = { z, ...(getFamily(family).needsLabels ? { label: [0, 1] } : {}) };
    const response = await fetch(`${base}/${model.name}/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await response.json()) as { shape: number[]; valueRange: string; images: number[][] };
    assert.equal(response.status, 200, JSON.stringify(answer));
    assert.deepEqual(answer.shape, [2, dataset.channels, dataset.height, dataset.width]);
    const [low, high] = answer.valueRange === 'symmetric' ? [-1, 1] : [0, 1];
    assert.ok(answer.images.flat().every((v) => Number.isFinite(v) && v >= low && v <= high), 'images in the value range');
  } finally {
    await server.close();
  }
}
