/**
 * FID statistics files: pytorch-fid's `.npz` (`mu`, `sigma`, float64; what `python -m pytorch_fid
 * --save-stats` writes and what published reference statistics come as), and aekit's, which is the
 * same `.npz` with two more members, so that pytorch-fid, clean-fid and numpy read it unchanged:
 *
 * - `aekit.json`: where the statistics came from ({@link StatsProvenance}): the feature network's
 *   SHA-256 and preprocessing (checked against the network of the other side before any FID is
 *   computed), the image count, the folder;
 * - `features.npy` (float32, n x d), when asked for: KID needs the features, not only statistics.
 */
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { AekitError } from '../core/errors';
import { writeFileAtomic } from '../core/atomic-write';
import { NpzArchive, encodeNpz } from '../core/npz';
import type { NpyArray } from '../core/npz';
import { AEKIT_VERSION } from '../core/version';
import { FEATURE_INPUT_RANGES, FEATURE_RESIZE_MODES } from '../artifact/metadata';
import type { FeatureStats } from './metrics/fid';
import type { FeatureNetworkReport } from './report-types';

/** The member of an aekit statistics file that holds its provenance. */
export const STATS_PROVENANCE_MEMBER = 'aekit.json';

/** `format` of {@link StatsProvenance}. */
export const STATS_FILE_FORMAT = 'aekit-fid-stats';

/** Version of the provenance; bump it when its meaning changes. */
export const STATS_FILE_VERSION = 1;

/** Where a statistics file's numbers came from (the `aekit.json` member). */
export interface StatsProvenance {
  format: typeof STATS_FILE_FORMAT;
  version: number;
  /** The feature network: its file as given, SHA-256, feature size and preprocessing. */
  network: FeatureNetworkReport;
  /** Images the statistics were computed from. */
  count: number;
  /** The folder they were read from, the files skipped, and the limit given. */
  source: { folder: string; skipped: number; limit?: number };
  /** True when the file holds the features themselves (`features.npy`). */
  features: boolean;
  aekitVersion: string;
  /** ISO 8601 time of writing. */
  createdAt: string;
}

const provenanceSchema = z.object({
  format: z.literal(STATS_FILE_FORMAT),
  version: z.number().int().min(1),
  network: z.object({
    path: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    featureSize: z.number().int().min(1),
    preprocess: z.object({
      output: z.string(),
      input: z.string().optional(),
      size: z.object({ height: z.number().int().min(1), width: z.number().int().min(1) }).optional(),
      resize: z.enum(FEATURE_RESIZE_MODES),
      range: z.enum(FEATURE_INPUT_RANGES),
      grayToRgb: z.boolean(),
    }),
    declared: z.boolean(),
  }),
  count: z.number().int().min(2),
  source: z.object({ folder: z.string(), skipped: z.number().int().min(0), limit: z.number().int().min(1).optional() }),
  features: z.boolean(),
  aekitVersion: z.string(),
  createdAt: z.string(),
});

/** A statistics file as read. */
export interface StatsFile {
  file: string;
  /** 'aekit' when the file has aekit's provenance, else 'pytorch-fid' (only `mu` and `sigma`). */
  kind: 'aekit' | 'pytorch-fid';
  stats: FeatureStats;
  /** The feature dimension. */
  featureSize: number;
  /** Images behind the statistics (pytorch-fid's files do not say). */
  count?: number;
  /** The features (count x featureSize), when the file holds them. */
  features?: Float32Array;
  provenance?: StatsProvenance;
}

/** What {@link writeStatsFile} writes. */
export interface StatsFileContent {
  stats: FeatureStats;
  network: FeatureNetworkReport;
  count: number;
  source: StatsProvenance['source'];
  /** The features, to store as `features.npy` (KID needs them). */
  features?: Float32Array;
}

/** True when `file` is named like a statistics file (pytorch-fid tells them from folders the same way). */
export function isStatsFileName(file: string): boolean {
  return file.toLowerCase().endsWith('.npz');
}

/**
 * Read a statistics file: aekit's, or pytorch-fid's `.npz` (`mu` of shape (d,), `sigma` (d, d);
 * float64, or float32 as some published files are).
 * @throws AekitError FILE_NOT_FOUND; BAD_DATA naming the file and member for anything else: not an
 *   `.npz`, no `mu`/`sigma`, shapes that disagree, values that are not finite, a `sigma` that is not
 *   symmetric, a malformed `aekit.json`.
 */
export async function readStatsFile(file: string): Promise<StatsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AekitError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'BAD_DATA', `cannot read the statistics file: ${(error as Error).message}`, { where: file, cause: error });
  }
  const archive = NpzArchive.open(bytes, file);
  for (const name of ['mu', 'sigma']) {
    if (!archive.hasArray(name)) {
      const found = archive.arrayNames.map((n) => `'${n}'`).join(', ') || 'no arrays';
      throw new AekitError('BAD_DATA', `expected FID statistics: arrays 'mu' and 'sigma' (as pytorch-fid's --save-stats writes them), found ${found}`, { where: file });
    }
  }
  const mu = archive.array('mu');
  const sigma = archive.array('sigma');
  const d = mu.shape[0];
  if (mu.shape.length !== 1 || d < 1) throw new AekitError('BAD_DATA', `expected 'mu' of shape (d,), found (${mu.shape.join(', ')})`, { where: `${file}: mu` });
  if (sigma.shape.length !== 2 || sigma.shape[0] !== d || sigma.shape[1] !== d) {
    throw new AekitError('BAD_DATA', `expected 'sigma' of shape (${d}, ${d}) to match 'mu' (${d},), found (${sigma.shape.join(', ')})`, { where: `${file}: sigma` });
  }
  const stats: FeatureStats = { mean: finite(mu, `${file}: mu`), cov: symmetric(finite(sigma, `${file}: sigma`), d, `${file}: sigma`) };
  const provenanceBytes = archive.other(STATS_PROVENANCE_MEMBER);
  if (!provenanceBytes) return { file, kind: 'pytorch-fid', stats, featureSize: d };

  const where = `${file}: ${STATS_PROVENANCE_MEMBER}`;
  let provenance: StatsProvenance;
  try {
    provenance = provenanceSchema.parse(JSON.parse(new TextDecoder().decode(provenanceBytes)));
  } catch (error) {
    const detail = error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (error as Error).message;
    throw new AekitError('BAD_DATA', `expected aekit's statistics provenance, found: ${detail}`, { where, cause: error });
  }
  if (provenance.network.featureSize !== d) {
    throw new AekitError('BAD_DATA', `expected ${d} features (the size of 'mu'), found network.featureSize = ${provenance.network.featureSize}`, { where });
  }
  const result: StatsFile = { file, kind: 'aekit', stats, featureSize: d, count: provenance.count, provenance };
  if (provenance.features) {
    const features = archive.array('features');
    if (features.shape.length !== 2 || features.shape[0] !== provenance.count || features.shape[1] !== d) {
      throw new AekitError('BAD_DATA', `expected 'features' of shape (${provenance.count}, ${d}), found (${features.shape.join(', ')})`, { where: `${file}: features` });
    }
    result.features = features.data instanceof Float32Array ? features.data : Float32Array.from(features.data);
  }
  return result;
}

/** The values of `array` as float64, refusing NaN and infinities. */
function finite(array: NpyArray, where: string): Float64Array {
  const values = array.data instanceof Float64Array ? array.data : Float64Array.from(array.data);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new AekitError('BAD_DATA', `expected finite values, found ${values[bad]} at index ${bad}`, { where });
  return values;
}

/**
 * Relative asymmetry a covariance may have: np.cov's products are symmetric to the last bit, and a
 * float32 copy stays so; anything beyond rounding is another matrix (a factor, a transposed mix-up).
 */
const SYMMETRY_RTOL = 1e-9;

/** `cov` (d x d), refused unless symmetric up to rounding. */
function symmetric(cov: Float64Array, d: number, where: string): Float64Array {
  let scale = 0;
  for (const v of cov) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const [a, b] = [cov[i * d + j], cov[j * d + i]];
      if (Math.abs(a - b) > SYMMETRY_RTOL * scale) {
        throw new AekitError('BAD_DATA', `expected a symmetric covariance, found sigma[${i}][${j}] = ${a} but sigma[${j}][${i}] = ${b}`, { where });
      }
    }
  }
  return cov;
}

/**
 * Write aekit's statistics file (see the module comment) atomically: `mu` and `sigma` in float64
 * as pytorch-fid writes them, the provenance, and the features when given.
 * @throws AekitError BAD_ARGUMENT when the name does not end in `.npz` (pytorch-fid reads only such
 *   files as statistics) or the sizes disagree; ALREADY_EXISTS for an existing file without `force`.
 */
export async function writeStatsFile(file: string, content: StatsFileContent, opts: { force?: boolean } = {}): Promise<StatsProvenance> {
  if (!isStatsFileName(file)) throw new AekitError('BAD_ARGUMENT', 'expected a statistics file name ending in .npz (pytorch-fid reads statistics only from .npz files)', { where: file });
  const d = content.network.featureSize;
  const { mean, cov } = content.stats;
  if (mean.length !== d || cov.length !== d * d) throw new AekitError('BAD_ARGUMENT', `expected statistics of ${d} features, found mean ${mean.length} and cov ${cov.length} values`, { where: file });
  if (content.features && content.features.length !== content.count * d) {
    throw new AekitError('BAD_ARGUMENT', `expected ${content.count} x ${d} features, found ${content.features.length} values`, { where: file });
  }
  const provenance: StatsProvenance = {
    format: STATS_FILE_FORMAT,
    version: STATS_FILE_VERSION,
    network: content.network,
    count: content.count,
    source: content.source,
    features: content.features !== undefined,
    aekitVersion: AEKIT_VERSION,
    createdAt: new Date().toISOString(),
  };
  const arrays: Record<string, NpyArray> = { mu: { shape: [d], data: mean }, sigma: { shape: [d, d], data: cov } };
  if (content.features) arrays.features = { shape: [content.count, d], data: content.features };
  const bytes = encodeNpz(arrays, { [STATS_PROVENANCE_MEMBER]: new TextEncoder().encode(JSON.stringify(provenance, null, 2) + '\n') });
  await writeFileAtomic(file, bytes, { force: opts.force });
  return provenance;
}
