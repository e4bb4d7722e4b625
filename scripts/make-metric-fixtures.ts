/**
 * Regenerates fixtures/metrics/: seeded inputs as raw little-endian float32 files and the values
 * the reference implementations give for them (reference.json), which test/eval/metrics/ checks
 * aekit's FID, SSIM and PSNR against. Python is used here only, never by aekit or its tests.
 *
 *   npx tsx scripts/make-metric-fixtures.ts
 *
 * Needs `python3` with numpy + scipy (FID: /work/shared/reference/fid_reference.py, pytorch-fid's
 * formula) and `/usr/bin/python3` with scikit-image (`apt-get install -y python3-skimage`; SSIM:
 * /work/shared/reference/ssim_reference.py, PSNR: the inline snippet below). Override the
 * interpreters and the reference folder with AEKIT_FID_PYTHON, AEKIT_SKIMAGE_PYTHON, AEKIT_REFERENCE_DIR.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Rng } from '../src/core/rng';

/** Repository root; commands in reference.json are relative to it. */
const ROOT = resolve(__dirname, '..');

/** Where the fixtures live; file names in reference.json are relative to it. */
export const METRIC_FIXTURE_DIR = join(ROOT, 'fixtures', 'metrics');

/** Seed of every generated input (each input derives its own stream from it and its name). */
const SEED = 4;

/** One FID fixture: two feature files (n×d each) and pytorch-fid's value for them. */
export interface FidReferenceCase {
  name: string;
  description: string;
  /** Feature files, relative to {@link METRIC_FIXTURE_DIR}. */
  a: string;
  b: string;
  nA: number;
  nB: number;
  d: number;
  /** The exact command that printed `value`, run from the repository root. */
  command: string;
  value: number;
}

/** One image-metric fixture: two H×W×C images and the reference value for them. */
export interface ImageReferenceCase {
  name: string;
  description: string;
  /** Image files, relative to {@link METRIC_FIXTURE_DIR}. */
  a: string;
  b: string;
  height: number;
  width: number;
  channels: number;
  command: string;
  value: number;
}

/** Reference values for one metric, with the library versions that computed them. */
export interface MetricReferenceSection<Case> {
  reference: string;
  versions: Record<string, string>;
  cases: Case[];
}

/** The schema of fixtures/metrics/reference.json. */
export interface MetricReference {
  generatedBy: string;
  seed: number;
  fid: MetricReferenceSection<FidReferenceCase>;
  ssim: MetricReferenceSection<ImageReferenceCase>;
  psnr: MetricReferenceSection<ImageReferenceCase>;
}

/** Reads fixtures/metrics/reference.json. */
export function loadMetricReference(): MetricReference {
  return JSON.parse(readFileSync(join(METRIC_FIXTURE_DIR, 'reference.json'), 'utf8')) as MetricReference;
}

/** Reads a raw little-endian float32 file (path relative to {@link METRIC_FIXTURE_DIR}). */
export function readF32(file: string): Float32Array {
  const bytes = readFileSync(join(METRIC_FIXTURE_DIR, file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function writeF32(file: string, values: Float32Array): void {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  writeFileSync(join(METRIC_FIXTURE_DIR, file), new Uint8Array(view.buffer));
}

const REFERENCE_DIR = process.env.AEKIT_REFERENCE_DIR ?? '/work/shared/reference';
const FID_PYTHON = process.env.AEKIT_FID_PYTHON ?? 'python3';
const SKIMAGE_PYTHON = process.env.AEKIT_SKIMAGE_PYTHON ?? '/usr/bin/python3';

/** skimage's PSNR of two float32 files (shape does not matter to the MSE). */
const PSNR_SNIPPET =
  'import sys, numpy as np; from skimage.metrics import peak_signal_noise_ratio as p; ' +
  'a, b = (np.fromfile(f, dtype="<f4").astype(np.float64) for f in sys.argv[1:3]); ' +
  'print(f"{p(a, b, data_range=1.0):.10g}")';

function run(python: string, args: string[]): { command: string; value: number } {
  const command = [python, ...args].map((s) => (/^[\w./=-]+$/.test(s) ? s : `'${s}'`)).join(' ');
  const out = execFileSync(python, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const value = Number(out.trim().split('\n').pop());
  if (!Number.isFinite(value)) throw new Error(`${command} printed ${JSON.stringify(out)}`);
  return { command, value };
}

function versions(python: string, modules: string[]): Record<string, string> {
  const code =
    'import sys, json, importlib; ' +
    `print(json.dumps({"python": sys.version.split()[0], "executable": sys.executable, ` +
    `**{m: importlib.import_module(m).__version__ for m in ${JSON.stringify(modules)}}}))`;
  const found = JSON.parse(execFileSync(python, ['-c', code], { encoding: 'utf8' })) as Record<string, string>;
  return found;
}

// ---- inputs --------------------------------------------------------------------------------------

/** n samples of z·mix + shift with z ~ N(0, I_d): a correlated Gaussian "feature" cloud. */
function gaussianFeatures(rng: Rng, n: number, { mix, shift }: Distribution): Float32Array {
  const d = shift.length;
  const out = new Float32Array(n * d);
  const z = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < d; k++) z[k] = rng.normal();
    for (let j = 0; j < d; j++) {
      let v = shift[j];
      for (let k = 0; k < d; k++) v += z[k] * mix[k * d + j];
      out[r * d + j] = v;
    }
  }
  return out;
}

/** The law of z·mix + shift, z ~ N(0, I_d); mix is d×d row-major. */
interface Distribution {
  mix: Float64Array;
  shift: Float64Array;
}

/** A random mixing matrix (entries N(0, scale²/d)) and shift (entries N(0, shiftScale²)). */
function distribution(rng: Rng, d: number, scale: number, shiftScale: number): Distribution {
  const mix = Float64Array.from({ length: d * d }, () => (rng.normal() * scale) / Math.sqrt(d));
  const shift = Float64Array.from({ length: d }, () => rng.normal() * shiftScale);
  return { mix, shift };
}

/** A smooth H×W×C image in [0, 1]: Gaussian blobs of random colours plus a hard-edged rectangle. */
function realishImage(rng: Rng, h: number, w: number, c: number): Float32Array {
  const img = new Float32Array(h * w * c);
  const blobs = Array.from({ length: 5 }, () => ({
    y: rng.next() * h,
    x: rng.next() * w,
    s: (0.08 + 0.2 * rng.next()) * Math.min(h, w),
    colour: Array.from({ length: c }, () => rng.next()),
  }));
  const [y0, x0] = [rng.int(h / 2), rng.int(w / 2)];
  const [y1, x1] = [y0 + 3 + rng.int(h / 2), x0 + 3 + rng.int(w / 2)];
  const rectColour = Array.from({ length: c }, () => rng.next() * 0.5);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let v = 0.1;
        for (const b of blobs) v += 0.6 * b.colour[ch] * Math.exp(-((y - b.y) ** 2 + (x - b.x) ** 2) / (2 * b.s * b.s));
        if (y >= y0 && y < y1 && x >= x0 && x < x1) v += rectColour[ch];
        img[(y * w + x) * c + ch] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return img;
}

function withNoise(rng: Rng, img: Float32Array, sigma: number): Float32Array {
  return img.map((v) => Math.min(1, Math.max(0, v + sigma * rng.normal())));
}

/** 5×5 box blur, borders clamped. */
function boxBlur(img: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(img.length);
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let dy = -2; dy <= 2; dy++) {
          for (let dx = -2; dx <= 2; dx++) s += img[(clamp(y + dy, h) * w + clamp(x + dx, w)) * c + ch];
        }
        out[(y * w + x) * c + ch] = s / 25;
      }
    }
  }
  return out;
}

/** Content moved down by dy and right by dx pixels, edges replicated. */
function shifted(img: Float32Array, h: number, w: number, c: number, dy: number, dx: number): Float32Array {
  const out = new Float32Array(img.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sy = Math.max(0, y - dy);
      const sx = Math.max(0, x - dx);
      for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] = img[(sy * w + sx) * c + ch];
    }
  }
  return out;
}

// ---- generation ----------------------------------------------------------------------------------

function makeFid(): MetricReferenceSection<FidReferenceCase> {
  const d = 64;
  const n = 1000;
  const real = distribution(Rng.derive(SEED, 'fid', 'real'), d, 1, 1);
  const other = distribution(Rng.derive(SEED, 'fid', 'other'), d, 1.5, 1);
  const realA = gaussianFeatures(Rng.derive(SEED, 'fid', 'real-a'), n, real);
  const realB = gaussianFeatures(Rng.derive(SEED, 'fid', 'real-b'), n, real);
  const otherA = gaussianFeatures(Rng.derive(SEED, 'fid', 'other-a'), n, other);
  const jitter = Rng.derive(SEED, 'fid', 'jitter');
  const realAJitter = realA.map((v) => v + 1e-3 * jitter.normal());
  // n < d, with two feature columns that are always 0 (ReLU units that never fire): singular covariances.
  const deadColumns = [5, 17];
  const small = (name: string, rows: number, dist: Distribution) => {
    const f = gaussianFeatures(Rng.derive(SEED, 'fid', name), rows, dist);
    for (let r = 0; r < rows; r++) for (const j of deadColumns) f[r * d + j] = 0;
    return f;
  };
  const files: Record<string, { values: Float32Array; n: number }> = {
    'fid-real-a.f32': { values: realA, n },
    'fid-real-b.f32': { values: realB, n },
    'fid-other.f32': { values: otherA, n },
    'fid-real-a-jitter.f32': { values: realAJitter, n },
    'fid-small-real.f32': { values: small('small-real', 40, real), n: 40 },
    'fid-small-other.f32': { values: small('small-other', 48, other), n: 48 },
  };
  for (const [file, { values }] of Object.entries(files)) writeF32(file, values);

  const cases: [string, string, string, string][] = [
    ['different', 'two clearly different distributions (n = 1000, d = 64)', 'fid-real-a.f32', 'fid-other.f32'],
    ['same-distribution', 'two samples of one distribution: small FID', 'fid-real-a.f32', 'fid-real-b.f32'],
    ['near-identical', 'a set and itself plus noise of sd 1e-3: FID near 0', 'fid-real-a.f32', 'fid-real-a-jitter.f32'],
    [
      'rank-deficient',
      'n < d (40 and 48 samples, d = 64) and two all-zero columns: singular covariances',
      'fid-small-real.f32',
      'fid-small-other.f32',
    ],
  ];
  const script = join(REFERENCE_DIR, 'fid_reference.py');
  return {
    reference: `${script} (pytorch-fid calculate_frechet_distance with numpy.cov and scipy.linalg.sqrtm)`,
    versions: versions(FID_PYTHON, ['numpy', 'scipy']),
    cases: cases.map(([name, description, a, b]) => ({
      name,
      description,
      a,
      b,
      nA: files[a].n,
      nB: files[b].n,
      d,
      ...run(FID_PYTHON, [script, join('fixtures', 'metrics', a), join('fixtures', 'metrics', b), String(d)]),
    })),
  };
}

function makeImages(): Pick<MetricReference, 'ssim' | 'psnr'> {
  const ssimScript = join(REFERENCE_DIR, 'ssim_reference.py');
  const ssimCases: ImageReferenceCase[] = [];
  const psnrCases: ImageReferenceCase[] = [];
  for (const [height, width, channels] of [
    [28, 28, 1],
    [28, 28, 3],
    [64, 64, 1],
    [64, 64, 3],
  ]) {
    const tag = `${height}x${width}x${channels}`;
    const rng = Rng.derive(SEED, 'image', tag);
    const base = realishImage(rng, height, width, channels);
    const images: Record<string, [string, Float32Array]> = {
      noise: ['Gaussian noise sigma 0.05, clipped', withNoise(rng, base, 0.05)],
      blur: ['5x5 box blur', boxBlur(base, height, width, channels)],
      shift: ['shifted 1 down, 2 right', shifted(base, height, width, channels, 1, 2)],
    };
    const baseFile = `img-${tag}-base.f32`;
    writeF32(baseFile, base);
    for (const [kind, [description, image]] of Object.entries(images)) {
      const file = `img-${tag}-${kind}.f32`;
      writeF32(file, image);
      const paths = [join('fixtures', 'metrics', baseFile), join('fixtures', 'metrics', file)];
      const common = { name: `${tag} ${kind}`, description, a: baseFile, b: file, height, width, channels };
      const shape = [String(height), String(width), String(channels)];
      ssimCases.push({ ...common, ...run(SKIMAGE_PYTHON, [ssimScript, ...paths, ...shape]) });
      psnrCases.push({ ...common, ...run(SKIMAGE_PYTHON, ['-c', PSNR_SNIPPET, ...paths]) });
    }
  }
  const skimageVersions = versions(SKIMAGE_PYTHON, ['numpy', 'scipy', 'skimage']);
  return {
    ssim: {
      reference:
        `${ssimScript} (skimage structural_similarity: gaussian_weights, sigma 1.5, ` +
        'population covariance, data_range 1)',
      versions: skimageVersions,
      cases: ssimCases,
    },
    psnr: {
      reference: 'skimage.metrics.peak_signal_noise_ratio(a, b, data_range=1.0)',
      versions: skimageVersions,
      cases: psnrCases,
    },
  };
}

function main(): void {
  rmSync(METRIC_FIXTURE_DIR, { recursive: true, force: true });
  mkdirSync(METRIC_FIXTURE_DIR, { recursive: true });
  const reference: MetricReference = {
    generatedBy: 'npx tsx scripts/make-metric-fixtures.ts',
    seed: SEED,
    fid: makeFid(),
    ...makeImages(),
  };
  writeFileSync(join(METRIC_FIXTURE_DIR, 'reference.json'), `${JSON.stringify(reference, null, 2)}\n`);
  process.stdout.write(`wrote ${METRIC_FIXTURE_DIR}\n`);
}

if (require.main === module) main();
