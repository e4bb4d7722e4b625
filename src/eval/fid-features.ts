/**
 * FID's feature network: an aekit classifier artifact whose `features` output (the penultimate
 * layer) plays the role of Inception-v3's pool3 in pytorch-fid, plus the on-disk cache of the
 * reference statistics of real images, keyed by the classifier file's SHA-256.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import type { Logger } from '../core/log';
import { silentLogger } from '../core/log';
import { writeFileAtomic } from '../core/atomic-write';
import { MODELS_DIR } from '../core/paths';
import type { ValueRange } from '../data/types';
import { featureStats } from './metrics/fid';
import type { FeatureStats } from './metrics/fid';
import { sha256File, sha256Text } from './cache';
import { convertRange, describeShape, toArtifactImages } from './images';
import type { ImageShape } from './images';
import { OnnxModel } from './onnx-session';
import type { OnnxModelOptions, RowProgress } from './onnx-session';

/** The shipped MNIST classifier whose features FID uses (trained by experiments/mnist-classifier.json). */
export const DEFAULT_FID_CLASSIFIER = path.join(MODELS_DIR, 'mnist-classifier.onnx');

/**
 * Image shape of {@link DEFAULT_FID_CLASSIFIER}: MNIST's, which experiments/mnist-classifier.json
 * trains at. Known without the file, so that data of another shape can be told why FID does not
 * apply even where the classifier is not installed.
 */
export const DEFAULT_FID_IMAGE_SHAPE: Readonly<ImageShape> = Object.freeze({ height: 28, width: 28, channels: 1 });

/** Output of a classifier artifact that FID reads (see src/models/classifier.ts). */
export const FID_FEATURES_OUTPUT = 'features';

/** Version of the cache entry format; bump it to ignore entries written by older code. */
const STATS_CACHE_FORMAT = 1;

/** Sub-folder of the cache directory holding reference statistics. */
const STATS_CACHE_FOLDER = 'fid-stats';

/** A loaded FID feature network. */
export class FidFeatureNet {
  private constructor(
    readonly model: OnnxModel,
    /** Hex SHA-256 of the artifact file: the cache key of statistics computed with it. */
    readonly sha256: string,
    /** Length of a feature vector. */
    readonly featureSize: number,
  ) {}

  /**
   * Load a classifier artifact and check it has a `features` output and a fixed image shape.
   * @throws AekitError FILE_NOT_FOUND (with a hint for the shipped classifier), BAD_DATA for a
   *   file that is not an aekit classifier.
   */
  static async load(file: string, options: OnnxModelOptions = {}): Promise<FidFeatureNet> {
    try {
      await fs.access(file);
    } catch {
      const hint = path.resolve(file) === DEFAULT_FID_CLASSIFIER ? ' (the shipped MNIST classifier is missing; pass another with --classifier)' : '';
      throw new AekitError('FILE_NOT_FOUND', `FID classifier not found${hint}`, { where: file });
    }
    const [model, sha256] = await Promise.all([OnnxModel.load(file, options), sha256File(file)]);
    const where = (field: string) => `${file}: aekit.${field}`;
    try {
      if (model.info.part !== 'classifier') {
        throw new AekitError('BAD_DATA', `expected a classifier artifact for FID features, found part '${model.info.part}'`, { where: where('part') });
      }
      const size = model.output(FID_FEATURES_OUTPUT).shape[1];
      if (typeof size !== 'number') throw new AekitError('BAD_DATA', `output '${FID_FEATURES_OUTPUT}' has no fixed width`, { where: where('outputs') });
      if (!model.info.imageShape) throw new AekitError('BAD_DATA', 'expected a fixed image shape', { where: where('imageShape') });
      if (!model.info.imageInput) throw new AekitError('BAD_DATA', 'expected an image input (layout NCHW)', { where: where('inputs') });
      return new FidFeatureNet(model, sha256, size);
    } catch (error) {
      await model.release();
      throw error;
    }
  }

  /** The image shape the classifier takes. */
  get imageShape(): ImageShape {
    const { channels, height, width } = this.model.info.imageShape!;
    return { channels, height, width };
  }

  /** The value range the classifier takes. */
  get valueRange(): ValueRange {
    return this.model.info.valueRange;
  }

  /**
   * Check that images of `shape` can be fed to the classifier.
   * @throws AekitError BAD_ARGUMENT naming the first field of `aekit.imageShape` that disagrees.
   */
  checkShape(shape: ImageShape, what: string): void {
    const mine = this.imageShape;
    for (const field of ['channels', 'height', 'width'] as const) {
      if (mine[field] !== shape[field]) {
        throw new AekitError(
          'BAD_ARGUMENT',
          `the FID classifier takes images with ${field} = ${mine[field]}, but ${what} has ${field} = ${shape[field]} (${describeShape(shape)})`,
          { where: `${this.model.path}: aekit.imageShape.${field}` },
        );
      }
    }
  }

  /** Features (count×featureSize) of NCHW images in `range`. */
  async features(nchw: Float32Array, count: number, range: ValueRange, progress?: RowProgress): Promise<Float32Array> {
    const { channels, height, width } = this.imageShape;
    const image = this.model.info.imageInput!;
    const out = await this.model.run({ [image]: { data: convertRange(nchw, range, this.valueRange), dims: [count, channels, height, width] } }, [FID_FEATURES_OUTPUT], progress);
    return out[FID_FEATURES_OUTPUT].data;
  }

  /** Features of data-layer images (NHWC in [0, 1]). */
  async featuresOfData(unitNhwc: Float32Array, count: number): Promise<Float32Array> {
    return this.features(toArtifactImages(unitNhwc, count, this.imageShape, 'unit'), count, 'unit');
  }

  /** Free the session. */
  release(): Promise<void> {
    return this.model.release();
  }
}

/** What identifies a set of reference statistics. */
export interface ReferenceKey {
  /** Canonical description of the data (dataset spec, split, count, seed where it matters). */
  data: Record<string, unknown>;
}

/** Reference statistics and where they came from. */
export interface ReferenceStats {
  stats: FeatureStats;
  /** True when read from the cache. */
  cached: boolean;
  /** The cache file (read or written). */
  file: string;
}

interface CacheEntry {
  format: number;
  classifierSha256: string;
  data: Record<string, unknown>;
  d: number;
  mean: number[];
  cov: number[];
}

/**
 * Feature statistics of real images, read from the cache when an entry for (classifier SHA-256,
 * `key`) exists, else computed with `compute` and stored. A corrupt or mismatching entry is
 * recomputed and replaced.
 */
export async function referenceStats(
  net: FidFeatureNet,
  key: ReferenceKey,
  cacheDir: string,
  compute: () => Promise<FeatureStats>,
  logger: Logger = silentLogger,
): Promise<ReferenceStats> {
  const identity = JSON.stringify({ format: STATS_CACHE_FORMAT, classifierSha256: net.sha256, data: key.data });
  const file = path.join(cacheDir, STATS_CACHE_FOLDER, `${sha256Text(identity).slice(0, 32)}.json`);
  const cached = await readEntry(file, net, key, logger);
  if (cached) return { stats: cached, cached: true, file };
  const stats = await compute();
  const entry: CacheEntry = {
    format: STATS_CACHE_FORMAT,
    classifierSha256: net.sha256,
    data: key.data,
    d: stats.mean.length,
    mean: Array.from(stats.mean),
    cov: Array.from(stats.cov),
  };
  // JSON keeps float64 exactly: JS prints the shortest string that parses back to the same double.
  await writeFileAtomic(file, JSON.stringify(entry), { force: true });
  return { stats, cached: false, file };
}

async function readEntry(file: string, net: FidFeatureNet, key: ReferenceKey, logger: Logger): Promise<FeatureStats | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const entry = JSON.parse(text) as CacheEntry;
    const d = net.featureSize;
    const valid =
      entry.format === STATS_CACHE_FORMAT &&
      entry.classifierSha256 === net.sha256 &&
      JSON.stringify(entry.data) === JSON.stringify(key.data) &&
      entry.d === d &&
      entry.mean.length === d &&
      entry.cov.length === d * d;
    if (valid) return { mean: Float64Array.from(entry.mean), cov: Float64Array.from(entry.cov) };
  } catch {
    // Fall through: a corrupt entry is recomputed.
  }
  logger.warn(`ignoring an invalid FID statistics cache entry (it will be rewritten): ${file}`);
  return undefined;
}

/** Feature statistics of data-layer images. */
export async function dataStats(net: FidFeatureNet, unitNhwc: Float32Array, count: number): Promise<FeatureStats> {
  return featureStats(await net.featuresOfData(unitNhwc, count), count, net.featureSize);
}
