/**
 * FID's and KID's feature networks as eval uses them (src/eval/features: any ONNX network with its
 * declared preprocessing; the shipped classifiers by image shape), and the on-disk cache of the
 * features and statistics of real images, keyed by the network file's SHA-256 and its preprocessing.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { writeFileAtomic } from '../core/atomic-write';
import { CLASSIFIER_FEATURES_OUTPUT } from '../artifact/info';
import { covarianceProblem, featureStats } from './metrics/fid';
import type { FeatureStats } from './metrics/fid';
import { sha256Bytes, sha256Float64, sha256Text } from './cache';
import { FeatureNetwork } from './features/network';
import { SHIPPED_FEATURE_NETWORKS } from './features/shipped';
import type { ImageShape } from './images';

/** The shipped MNIST classifier whose features FID uses on 28x28 grayscale images (trained by experiments/mnist-classifier.json). */
export const DEFAULT_FID_CLASSIFIER = SHIPPED_FEATURE_NETWORKS[0].file;

/** Image shape of {@link DEFAULT_FID_CLASSIFIER}: MNIST's. */
export const DEFAULT_FID_IMAGE_SHAPE: Readonly<ImageShape> = SHIPPED_FEATURE_NETWORKS[0].shape;

/** Output of an aekit classifier artifact that FID reads (see src/models/classifier.ts). */
export const FID_FEATURES_OUTPUT = CLASSIFIER_FEATURES_OUTPUT;

/**
 * FID's feature network under its earlier name (it was an aekit classifier only).
 * @deprecated Use {@link FeatureNetwork}.
 */
export const FidFeatureNet = FeatureNetwork;
/** @deprecated Use {@link FeatureNetwork}. */
export type FidFeatureNet = FeatureNetwork;

/** Version of the cache entry format; bump it to ignore entries written by older code (1: statistics only, keyed by the classifier alone). */
const STATS_CACHE_FORMAT = 2;

/** Sub-folder of the cache directory holding reference statistics. */
const STATS_CACHE_FOLDER = 'fid-stats';

/** What identifies a set of reference statistics. */
export interface ReferenceKey {
  /** Canonical description of the data (dataset spec, split, count, seed where it matters). */
  data: Record<string, unknown>;
}

/** Reference features and statistics, and where they came from. */
export interface ReferenceStats {
  stats: FeatureStats;
  /** The features themselves (count×featureSize), when asked for (KID needs them, FID only the statistics). */
  features?: Float32Array;
  /** True when read from the cache. */
  cached: boolean;
  /** The cache file of the statistics (read or written); the features sit beside it, `.f32`. */
  file: string;
}

interface CacheEntry {
  format: number;
  classifierSha256: string;
  extraction: unknown;
  data: Record<string, unknown>;
  d: number;
  count?: number;
  mean: number[];
  cov: number[];
  /** {@link sha256Float64} of mean and cov (entries written before it had none). */
  statsSha256?: string;
  /** SHA-256 of the features file's bytes. */
  featuresSha256?: string;
}

/**
 * Features and statistics of real images, read from the cache when an entry for (network, `key`)
 * exists, else computed with `compute` and stored: the statistics as JSON (float64 exactly), the
 * features as raw float32 beside them. `withFeatures`: the features are needed too, so an entry
 * holding statistics only is completed. A corrupt or mismatching entry is recomputed and replaced.
 */
export async function referenceStats(
  net: FeatureNetwork,
  key: ReferenceKey,
  cacheDir: string,
  compute: () => Promise<Float32Array>,
  logger: Logger = silentLogger,
  withFeatures = false,
): Promise<ReferenceStats> {
  const identity = JSON.stringify({ format: STATS_CACHE_FORMAT, network: net.identity, data: key.data });
  const file = path.join(cacheDir, STATS_CACHE_FOLDER, `${sha256Text(identity).slice(0, 32)}.json`);
  const featuresFile = file.replace(/\.json$/, '.f32');
  const entry = await readEntry(file, net, key, logger);
  if (entry) {
    if (!withFeatures) return { stats: entry.stats, cached: true, file };
    const features = await readFeatures(featuresFile, entry.count, net.featureSize, entry.featuresSha256, logger);
    if (features) return { stats: entry.stats, features, cached: true, file };
  }
  const features = await compute();
  const count = features.length / net.featureSize;
  const stats = featureStats(features, count, net.featureSize);
  const written: CacheEntry = {
    format: STATS_CACHE_FORMAT,
    classifierSha256: net.sha256,
    extraction: net.extraction,
    data: key.data,
    d: net.featureSize,
    count,
    mean: Array.from(stats.mean),
    cov: Array.from(stats.cov),
    statsSha256: sha256Float64(stats.mean, stats.cov),
    featuresSha256: sha256Bytes(new Uint8Array(features.buffer, features.byteOffset, features.byteLength)),
  };
  // The features first: an entry is only read with its features once both are written.
  await writeFileAtomic(featuresFile, new Uint8Array(features.buffer, features.byteOffset, features.byteLength), { force: true });
  // JSON keeps float64 exactly: JS prints the shortest string that parses back to the same double.
  await writeFileAtomic(file, JSON.stringify(written), { force: true });
  return { stats, features: withFeatures ? features : undefined, cached: false, file };
}

async function readEntry(file: string, net: FeatureNetwork, key: ReferenceKey, logger: Logger): Promise<{ stats: FeatureStats; count?: number; featuresSha256?: string } | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let problem: string;
  try {
    const entry = JSON.parse(text) as CacheEntry;
    const d = net.featureSize;
    const valid =
      entry.format === STATS_CACHE_FORMAT &&
      entry.classifierSha256 === net.sha256 &&
      JSON.stringify(entry.extraction) === JSON.stringify(net.extraction) &&
      JSON.stringify(entry.data) === JSON.stringify(key.data) &&
      entry.d === d &&
      entry.mean.length === d &&
      entry.cov.length === d * d;
    problem = valid ? (statsProblem(entry) ?? '') : 'written for another network, preprocessing, data or format';
    if (!problem) return { stats: { mean: Float64Array.from(entry.mean), cov: Float64Array.from(entry.cov) }, count: entry.count, featuresSha256: entry.featuresSha256 };
  } catch (error) {
    problem = `not valid JSON (${(error as Error).message})`;
  }
  logger.warn(`ignoring an invalid FID statistics cache entry (it will be rewritten): ${file}: ${problem}`);
  return undefined;
}

/**
 * Why an entry's numbers cannot be used, or undefined: a value that is not a finite number (JSON
 * has no NaN: a NaN written by another tool comes back as null), numbers that differ from those
 * written (their digest), a covariance that is not one ({@link covarianceProblem}).
 */
function statsProblem(entry: CacheEntry): string | undefined {
  for (const field of ['mean', 'cov'] as const) {
    const bad = entry[field].findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (bad >= 0) return `${field}[${bad}] is ${JSON.stringify(entry[field][bad])}, not a finite number`;
  }
  const mean = Float64Array.from(entry.mean);
  const cov = Float64Array.from(entry.cov);
  if (entry.statsSha256 !== undefined && entry.statsSha256 !== sha256Float64(mean, cov)) return 'its numbers differ from those written (statsSha256 does not match)';
  const covariance = covarianceProblem(cov, entry.d);
  return covariance ? `cov is ${covariance}` : undefined;
}

/**
 * Cached features of `count` rows, or undefined when the file is missing, has another size or
 * other bytes than were written (`sha256`, with a warning).
 */
async function readFeatures(file: string, count: number | undefined, d: number, sha256: string | undefined, logger: Logger): Promise<Float32Array | undefined> {
  if (count === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    return undefined;
  }
  if (bytes.byteLength !== count * d * 4) return undefined;
  if (sha256 !== undefined && sha256Bytes(bytes) !== sha256) {
    logger.warn(`ignoring cached features whose bytes differ from those written (it will be rewritten): ${file}`);
    return undefined;
  }
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Feature statistics of data-layer images (NHWC in [0, 1]) of `shape` (default: the network's own input shape). */
export async function dataStats(net: FeatureNetwork, unitNhwc: Float32Array, count: number, shape?: ImageShape): Promise<FeatureStats> {
  return featureStats(await net.featuresOfData(unitNhwc, count, shape), count, net.featureSize);
}
