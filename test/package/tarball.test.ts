/**
 * aekit as a dependency, the way a user gets it: `npm pack`, then an empty project installs the
 * tarball offline (npm's cache only; every proxy pointed at a closed port, so an install script
 * that reaches for the network fails at once instead of depending on it), with the README's
 * `ONNXRUNTIME_NODE_INSTALL=skip`. Then, in that project: `npx aekit --help`, every entry imported
 * from ESM and required from CommonJS, a shipped model run through `aekit/artifact` and read
 * through `aekit/web`, `aekit/web` bundled for a page by esbuild, and `tsc --strict` without
 * `skipLibCheck` on consumer files (nodenext ESM and CJS, node10, a bundler page with DOM types).
 *
 * Offline needs npm's cache to hold aekit's dependencies: the repository's `npm ci` puts them there.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { consumerEnv, ensureBuilt, readPackageJson, ROOT, run, writeConsumerProject } from './helpers';
import type { RunResult } from './helpers';

/** A closed local port: whatever tries the network through a proxy fails at once. */
const DEAD_PROXY = 'http://127.0.0.1:9';

/** The install as the README documents it, with the network out of reach. */
const OFFLINE_INSTALL_ENV: NodeJS.ProcessEnv = {
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  HTTP_PROXY: DEAD_PROXY,
  HTTPS_PROXY: DEAD_PROXY,
  http_proxy: DEAD_PROXY,
  https_proxy: DEAD_PROXY,
  // onnxruntime-node's install script reads its proxy through global-agent.
  GLOBAL_AGENT_HTTP_PROXY: DEAD_PROXY,
  GLOBAL_AGENT_HTTPS_PROXY: DEAD_PROXY,
  NO_PROXY: '',
  no_proxy: '',
};

const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** Shown when a step fails: the command's whole output. */
function output(result: RunResult): string {
  return `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
}

/** A JS file run in the consumer project: every entry, loaded its way, and a few real calls. */
const ESM_CHECK = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
const require = createRequire(import.meta.url);
const pkg = require('aekit/package.json');
const loaded = {};
for (const key of Object.keys(pkg.exports).filter((k) => k !== './package.json')) {
  const specifier = key === '.' ? 'aekit' : 'aekit/' + key.slice(2);
  loaded[specifier] = Object.keys(await import(specifier)).length;
}
const { AEKIT_VERSION, featureStats, frechetDistance, familyNames } = await import('aekit');
const { readArtifactInfo, runOnnx } = await import('aekit/artifact');
const { readAekitMetadata, describeArtifact } = await import('aekit/web');
const file = path.join(path.dirname(require.resolve('aekit/package.json')), 'models', 'mnist-classifier.onnx');
const info = readArtifactInfo(file);
const { height, width, channels } = info.imageShape;
const outputs = await runOnnx('ort-node-cpu', readFileSync(file), { [info.imageInput]: { dtype: 'float32', data: new Float32Array(height * width * channels), dims: [1, channels, height, width] } });
const rows = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.7));
const stats = featureStats(rows, 10, 4);
const web = describeArtifact(readAekitMetadata(readFileSync(file)));
console.log(JSON.stringify({ loaded, version: AEKIT_VERSION, families: familyNames(), outputs: outputs.map((o) => o.dims), fidToItself: frechetDistance(stats, stats), web: { family: web.family, imageShape: web.imageShape } }));
`;

const CJS_CHECK = `
const { readFileSync } = require('node:fs');
const path = require('node:path');
const pkg = require('aekit/package.json');
const loaded = {};
for (const key of Object.keys(pkg.exports).filter((k) => k !== './package.json')) {
  const specifier = key === '.' ? 'aekit' : 'aekit/' + key.slice(2);
  loaded[specifier] = Object.keys(require(specifier)).length;
}
const { AekitError, isAekitError, AEKIT_VERSION } = require('aekit');
const { readAekitMetadata, describeArtifact } = require('aekit/web');
const file = path.join(path.dirname(require.resolve('aekit/package.json')), 'models', 'mnist-classifier.onnx');
const web = describeArtifact(readAekitMetadata(readFileSync(file)));
console.log(JSON.stringify({ loaded, version: AEKIT_VERSION, typedError: isAekitError(new AekitError('BAD_ARGUMENT', 'x')), web: { family: web.family, imageShape: web.imageShape } }));
`;

/** Consumer TypeScript: real uses of each entry, and a misuse each that the types must refuse. */
const TS_FILES: Readonly<Record<string, string>> = Object.freeze({
  'node.mts': `
import { evaluate, train, AekitError, type EvalReport, type EvaluateOptions, type TrainResult } from 'aekit';
import { loadDataset, type ImageDataset } from 'aekit/data';
import { describeArtifact, type ArtifactInfo } from 'aekit/artifact';
import { exportRun, type ExportRunResult } from 'aekit/export';
import { frechetDistance, openLatentModel } from 'aekit/eval';
import { runSweep, type SlurmOptions, type SweepSlurmJob } from 'aekit/train';
import { startServer, type AekitServer } from 'aekit/serve';
import { benchmark, type BenchReport } from 'aekit/bench';
const options: EvaluateOptions = { metrics: ['fid', 'ssim'] };
const slurm: SlurmOptions = {};
export async function use(): Promise<[EvalReport, TrainResult, ImageDataset, ExportRunResult, AekitServer, BenchReport]> {
  // @ts-expect-error: the metric names are typed
  await evaluate('runs/x/onnx', { metrics: ['not-a-metric'] });
  return [await evaluate('runs/x/onnx', options), await train({}), await loadDataset({ name: 'mnist' }, 'test', 1), await exportRun('runs/x', { out: 'o' }), await startServer({ models: 'm' }), await benchmark('m')];
}
export const refs = [AekitError, describeArtifact, frechetDistance, openLatentModel, runSweep, slurm] as const;
export type Refs = [ArtifactInfo, SweepSlurmJob];
`,
  'node.cts': `
import aekit = require('aekit');
import evaluation = require('aekit/eval');
const version: string = aekit.AEKIT_VERSION;
// @ts-expect-error: the version is a string
const wrong: number = aekit.AEKIT_VERSION;
export = { version, wrong, ssim: evaluation.ssim };
`,
  'web.mts': `
import { describeArtifact, readAekitMetadata, type ArtifactInfo } from 'aekit/web';
export const read: (bytes: Uint8Array) => Record<string, unknown> = readAekitMetadata;
export type Info = ArtifactInfo;
export { describeArtifact };
`,
  'web.cts': `
import web = require('aekit/web');
type Decoder = Awaited<ReturnType<typeof web.loadDecoder>>;
// @ts-expect-error: the latent size is a number
const latent = (decoder: Decoder): string => decoder.latentSize;
export = { latent, loadModel: web.loadModel };
`,
  'legacy.ts': `
import { train, type TrainOptions } from 'aekit';
import { loadDecoder, type Decoder } from 'aekit/web';
import { runSweep } from 'aekit/train';
const options: TrainOptions = { resume: true };
export const refs = { train, loadDecoder, runSweep, options };
export type Refs = Decoder;
`,
  'page.ts': `
import { loadDecoder, drawImages, type Decoder } from 'aekit/web';
export async function show(canvas: HTMLCanvasElement): Promise<Decoder> {
  const decoder = await loadDecoder('/decoder.onnx', { wasmPaths: '/ort/' });
  drawImages(canvas, await decoder.sample(16, 42));
  // @ts-expect-error: sample takes a count and a seed
  await decoder.sample('sixteen');
  return decoder;
}
`,
});

/** One tsconfig per kind of consumer; all strict, none with skipLibCheck. */
const TS_CONFIGS: Readonly<Record<string, { files: string[]; compilerOptions: Record<string, unknown> }>> = Object.freeze({
  'nodenext ESM and CJS': { files: ['node.mts', 'node.cts'], compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'] } },
  // aekit/web draws on canvases: its types need the DOM library, as any browser module's do.
  'aekit/web from nodenext ESM and CJS, with DOM types': { files: ['web.mts', 'web.cts'], compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: [] } },
  'node10 (moduleResolution "node")': { files: ['legacy.ts'], compilerOptions: { module: 'commonjs', moduleResolution: 'node', esModuleInterop: true, lib: ['es2022', 'dom'], types: ['node'] } },
  'a bundler page with DOM types': { files: ['page.ts'], compilerOptions: { module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [] } },
});

describe('package: the tarball installed offline in an empty project @slow', function () {
  this.timeout(600_000);
  const pkg = readPackageJson();
  let root: string;
  let project: string;
  let packed: { filename: string; files: { path: string }[] };
  let install: RunResult;

  before(async () => {
    await ensureBuilt();
    root = mkdtempSync(path.join(os.tmpdir(), 'aekit-package-'));
    // The build is fresh (ensureBuilt), so packing skips `prepare`'s second build.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], { cwd: ROOT });
    assert.equal(pack.code, 0, output(pack));
    packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0];
    project = path.join(root, 'consumer');
    mkdirSync(project);
    writeConsumerProject(project, `file:../${packed.filename}`);
    install = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: project, env: consumerEnv(OFFLINE_INSTALL_ENV), timeoutMs: 300_000 });
  });

  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('installs with `npm ci --offline` and ONNXRUNTIME_NODE_INSTALL=skip, its bin linked', () => {
    const cacheMiss = /ENOTCACHED|only-if-cached/.test(install.stderr) ? "\nnpm's cache lacks a dependency: run `npm ci` in the repository once, online" : '';
    assert.equal(install.code, 0, `${output(install)}${cacheMiss}`);
    const installed = JSON.parse(readFileSync(path.join(project, 'node_modules', 'aekit', 'package.json'), 'utf8')) as { version: string };
    assert.equal(installed.version, pkg.version);
    assert.ok(existsSync(path.join(project, 'node_modules', '.bin', 'aekit')), 'the aekit bin is linked');
  });

  it('ships the built entries, their rolled-up types and no internal declarations', () => {
    const files = packed.files.map((f) => f.path);
    for (const file of ['dist/index.js', 'dist/web/aekit-web.js', 'dist/web/aekit-web.cjs', 'dist/web/package.json', 'dist/types/aekit.d.ts', 'dist/types/aekit-web.d.mts', 'dist/types/aekit-web.d.cts', 'bin/aekit.js', 'models/mnist-classifier.onnx']) {
      assert.ok(files.includes(file), `${file} is not in ${packed.filename}`);
    }
    const declarations = files.filter((f) => /\.d\.[cm]?ts$/.test(f) && !f.startsWith('dist/types/'));
    assert.deepEqual(declarations, [], 'only dist/types/ holds declarations');
    assert.deepEqual(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('build/')), []);
  });

  it('runs `npx aekit --help`', async () => {
    const help = await run('npx', ['--offline', 'aekit', '--help'], { cwd: project, env: consumerEnv(OFFLINE_INSTALL_ENV) });
    assert.equal(help.code, 0, output(help));
    assert.match(help.stdout, /^Usage: aekit /m);
    for (const verb of ['train', 'export', 'eval', 'serve', 'bench']) assert.match(help.stdout, new RegExp(`^\\s+${verb}\\b`, 'm'));
  });

  it('imports every entry from ESM: runs the shipped classifier on onnxruntime-node and reads it with aekit/web', async () => {
    writeFileSync(path.join(project, 'check.mjs'), ESM_CHECK);
    const result = await run(process.execPath, ['check.mjs'], { cwd: project });
    assert.equal(result.code, 0, output(result));
    const got = JSON.parse(result.stdout) as { loaded: Record<string, number>; version: string; families: string[]; outputs: number[][]; fidToItself: number; web: { family: string; imageShape: object } };
    assert.deepEqual(Object.keys(got.loaded).sort(), entrySpecifiers().sort());
    for (const [specifier, count] of Object.entries(got.loaded)) assert.ok(count > 0, `${specifier} exports nothing from ESM`);
    assert.equal(got.version, pkg.version);
    assert.ok(got.families.includes('vae'), `families: ${got.families.join(', ')}`);
    assert.ok(got.outputs.some((dims) => dims.join() === '1,10'), `classifier outputs ${JSON.stringify(got.outputs)}: expected a 1x10 logit row`);
    assert.ok(Math.abs(got.fidToItself) < 1e-6, `FID of a set to itself: ${got.fidToItself}`);
    assert.deepEqual(got.web, { family: 'classifier', imageShape: { channels: 1, height: 28, width: 28 } });
  });

  it('requires every entry from CommonJS, aekit/web included', async () => {
    writeFileSync(path.join(project, 'check.cjs'), CJS_CHECK);
    const result = await run(process.execPath, ['check.cjs'], { cwd: project });
    assert.equal(result.code, 0, output(result));
    // require(esm) would print an ExperimentalWarning on Node 20: aekit/web has a CommonJS build instead.
    assert.doesNotMatch(result.stderr, /ExperimentalWarning|ES Module/, result.stderr);
    const got = JSON.parse(result.stdout) as { loaded: Record<string, number>; version: string; typedError: boolean; web: { family: string } };
    assert.deepEqual(Object.keys(got.loaded).sort(), entrySpecifiers().sort());
    for (const [specifier, count] of Object.entries(got.loaded)) assert.ok(count > 0, `${specifier} exports nothing from CommonJS`);
    assert.equal(got.version, pkg.version);
    assert.equal(got.typedError, true);
    assert.equal(got.web.family, 'classifier');
  });

  it('bundles `aekit/web` for a browser page with esbuild: the ES module build, onnxruntime-web resolved by the bundler', async () => {
    writeFileSync(path.join(project, 'page.mjs'), "import { loadDecoder, drawImages } from 'aekit/web';\nwindow.aekit = { loadDecoder, drawImages };\n");
    const result = await build({ absWorkingDir: project, entryPoints: ['page.mjs'], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent', outfile: 'out.js' });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.includes('node_modules/aekit/dist/web/aekit-web.js'), `bundled: ${inputs.join(', ')}`);
    assert.ok(!inputs.some((file) => file.endsWith('.cjs')), 'a browser bundle takes the ES module build');
    assert.ok(inputs.some((file) => file.startsWith('node_modules/onnxruntime-web/')), 'onnxruntime-web comes from node_modules');
  });

  for (const [kind, config] of Object.entries(TS_CONFIGS)) {
    it(`type-checks a consumer under strict without skipLibCheck: ${kind}`, async () => {
      for (const file of config.files) writeFileSync(path.join(project, file), TS_FILES[file]);
      const tsconfig = `tsconfig.${config.files[0].replace(/\W/g, '-')}.json`;
      const compilerOptions = { strict: true, noEmit: true, target: 'es2022', skipLibCheck: false, ...config.compilerOptions };
      writeFileSync(path.join(project, tsconfig), JSON.stringify({ compilerOptions, files: config.files }, null, 2));
      const result = await run(process.execPath, [TSC, '-p', tsconfig], { cwd: project });
      assert.equal(result.code, 0, output(result));
    });
  }

  /** Specifiers of the entries package.json publishes. */
  function entrySpecifiers(): string[] {
    return Object.keys(pkg.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? 'aekit' : `aekit/${key.slice(2)}`));
  }
});
