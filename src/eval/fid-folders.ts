/**
 * FID (and KID) of any two image sets, pytorch-fid's command line as a library: each side a folder
 * of images (read at any depth, at their own size; the feature network's declared preprocessing
 * resizes them, as pytorch-fid's InceptionV3 resizes to 299x299) or a statistics file (aekit's, or
 * pytorch-fid's `.npz`). `saveStats` writes a folder's statistics for later use, as
 * `python -m pytorch_fid --save-stats` does.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../core/errors';
import { silentLogger } from '../core/log';
import type { Logger } from '../core/log';
import { isZip } from '../core/npz';
import type { FeatureExtraction } from '../artifact/metadata';
import type { OrtSessionRuntime } from '../artifact/runtime';
import { ImageStream } from '../data/image-stream';
import type { FirstImage } from '../data/image-stream';
import { sha256File } from './cache';
import { FEATURE_BATCH_VALUES, FeatureNetwork } from './features/network';
import { noShippedNetwork, shippedFeatureNetwork } from './features/shipped';
import { describeShape } from './images';
import type { ImageShape } from './images';
import { featureStats, frechetDistance } from './metrics/fid';
import type { FeatureStats } from './metrics/fid';
import { kid } from './metrics/kid';
import { DEFAULT_EVAL_BATCH } from './onnx-session';
import type { EvalProgress } from './options';
import type { FeatureNetworkReport } from './report-types';
import { smallSampleReasons } from './runners/fid';
import { isStatsFileName, readStatsFile, writeStatsFile } from './stats-file';
import type { StatsFile, StatsProvenance } from './stats-file';

/** Options of {@link fidOfFolders} and {@link saveStats}. */
export interface FolderFidOptions {
  /** The feature network (default: the shipped one for the folders' image shape; see docs/fid.md). */
  features?: string;
  /** Its preprocessing, for a plain ONNX file (the CLI's `--features-*` flags). */
  preprocess?: Partial<FeatureExtraction>;
  /** Images per onnxruntime run (default: as many as fit {@link FEATURE_BATCH_VALUES}, at most 1,000). */
  batchSize?: number;
  /** onnxruntime intra-op threads. */
  threads?: number;
  /** Runtime (default ort-node-cpu). */
  runtime?: OrtSessionRuntime;
  /** Read only the first N images of each folder. */
  limit?: number;
  /** The feature dimension expected (pytorch-fid's `--dims`): a network of another size is an error. */
  dims?: number;
  /** Compute KID too (needs the features of both sides). With {@link saveStats}: store the features. */
  kid?: boolean;
  kidSubsets?: number;
  kidSubsetSize?: number;
  /** Seed of KID's subsets (default 0). */
  seed?: number;
  logger?: Logger;
  /** Called as features are computed (a stage per folder) and KID's subsets run. */
  onProgress?: (event: EvalProgress) => void;
}

/** One side of a comparison, as the result describes it. */
export interface FidSideReport {
  path: string;
  kind: 'folder' | 'aekit-stats' | 'pytorch-fid-stats';
  /** Images behind the statistics (n); undefined for pytorch-fid's files, which do not record it. */
  count?: number;
  /** Files of a folder that were skipped (not images, undecodable). */
  skipped?: number;
  /** The first image of a folder, at its own size. */
  firstImage?: ImageShape;
}

/** Where the time went, in milliseconds. */
export interface FolderFidTimings {
  /** Reading and decoding images. */
  decodeMs: number;
  /** Resizing and the rest of the network's preprocessing. */
  preprocessMs: number;
  /** The feature network's runs. */
  inferenceMs: number;
  /** Means and covariances of the features. */
  statisticsMs: number;
  /** The Fréchet distance and KID. */
  distanceMs: number;
  totalMs: number;
}

/** What {@link fidOfFolders} found. */
export interface FolderFidResult {
  fid: number;
  kid?: { mean: number; std: number; subsets: number; subsetSize: number };
  a: FidSideReport;
  b: FidSideReport;
  /** The feature network: the one used, else the one the statistics files record (pytorch-fid's record none). */
  network?: FeatureNetworkReport;
  featureSize: number;
  /** The sample-size warning, when n is below 2,000 or the feature dimension. */
  smallSample?: string;
  /** Everything else worth knowing (statistics without provenance, colour images read as gray). */
  warnings: string[];
  timings: FolderFidTimings;
}

/** What {@link saveStats} wrote. */
export interface SavedStats {
  file: string;
  provenance: StatsProvenance;
  warnings: string[];
  timings: FolderFidTimings;
}

type Side = { kind: 'folder'; path: string; stream: ImageStream; first: FirstImage } | { kind: 'stats'; path: string; file: StatsFile };

/** A side's statistics (and features, when needed), once computed or read. */
interface Scored {
  report: FidSideReport;
  stats: FeatureStats;
  features?: Float32Array;
}

/**
 * FID between `a` and `b`, each a folder of images or a statistics file, with KID when asked.
 * @throws AekitError FILE_NOT_FOUND for a missing side or network; BAD_DATA for an unreadable side;
 *   BAD_ARGUMENT when the sides cannot be compared (different feature networks or sizes, KID from
 *   statistics without features, an image shape no network is given for).
 */
export async function fidOfFolders(a: string, b: string, options: FolderFidOptions = {}): Promise<FolderFidResult> {
  const start = performance.now();
  const logger = options.logger ?? silentLogger;
  const sides = [await openSide(a, options), await openSide(b, options)];
  if (options.kid) {
    for (const side of sides) {
      if (side.kind === 'stats' && !side.file.features) {
        throw new AekitError('BAD_ARGUMENT', `KID needs the features of both sides, and this statistics file holds only mu and sigma; write one with features: aekit fid <folder> --save-stats <file.npz> --kid`, { where: side.path });
      }
    }
  }
  const warnings: string[] = [];
  const net = await chooseNetwork(sides, options, logger);
  const timings: FolderFidTimings = { decodeMs: 0, preprocessMs: 0, inferenceMs: 0, statisticsMs: 0, distanceMs: 0, totalMs: 0 };
  try {
    const featureSize = checkComparable(sides, net, options, warnings);
    const scored: Scored[] = [];
    for (const side of sides) scored.push(await scoreSide(side, net, options, timings, warnings, logger));
    if (net) Object.assign(timings, { preprocessMs: net.timings.preprocessMs, inferenceMs: net.timings.inferenceMs });

    const t0 = performance.now();
    const fid = frechetDistance(scored[0].stats, scored[1].stats);
    // Two statistics files: the network they both record, when they do (checkComparable made sure it is one).
    const network = net ? networkReport(net) : sides.map((s) => (s.kind === 'stats' ? s.file.provenance?.network : undefined)).find((n) => n !== undefined);
    const result: FolderFidResult = { fid, a: scored[0].report, b: scored[1].report, featureSize, warnings, timings, ...(network ? { network } : {}) };
    if (options.kid) {
      const [x, y] = scored;
      const value = await kid(x.features!, x.report.count!, y.features!, y.report.count!, featureSize, {
        subsets: options.kidSubsets,
        subsetSize: options.kidSubsetSize,
        seed: options.seed,
        progress: (done, total) => options.onProgress?.({ stage: 'KID', done, total }),
      });
      result.kid = value;
    }
    timings.distanceMs = performance.now() - t0;
    result.smallSample = sampleSizeWarning(scored.map((s) => s.report), featureSize, Boolean(options.kid));
    timings.totalMs = performance.now() - start;
    return result;
  } finally {
    await net?.release();
  }
}

/**
 * Compute the statistics of a folder of images and write them to `file` (`.npz`, which
 * pytorch-fid reads too; see src/eval/stats-file.ts), with the features when `kid` is set.
 * @throws AekitError as {@link fidOfFolders}; ALREADY_EXISTS for an existing file without `force`.
 */
export async function saveStats(folder: string, file: string, options: FolderFidOptions & { force?: boolean } = {}): Promise<SavedStats> {
  const start = performance.now();
  const logger = options.logger ?? silentLogger;
  if (!isStatsFileName(file)) throw new AekitError('BAD_ARGUMENT', 'expected a statistics file name ending in .npz (pytorch-fid reads statistics only from .npz files)', { where: file });
  if (!options.force && existsSync(file)) throw new AekitError('ALREADY_EXISTS', 'refusing to overwrite an existing file; use force (--force) to replace it', { where: file });
  const side = await openSide(folder, options);
  if (side.kind !== 'folder') throw new AekitError('BAD_ARGUMENT', 'expected a folder of images to compute statistics of, found a statistics file', { where: folder });
  const warnings: string[] = [];
  const net = (await chooseNetwork([side], options, logger))!;
  const timings: FolderFidTimings = { decodeMs: 0, preprocessMs: 0, inferenceMs: 0, statisticsMs: 0, distanceMs: 0, totalMs: 0 };
  try {
    checkComparable([side], net, options, warnings);
    const scored = await scoreSide(side, net, { ...options, kid: true }, timings, warnings, logger);
    Object.assign(timings, { preprocessMs: net.timings.preprocessMs, inferenceMs: net.timings.inferenceMs });
    const provenance = await writeStatsFile(
      file,
      {
        stats: scored.stats,
        network: { ...networkReport(net), path: path.resolve(net.path) },
        count: scored.report.count!,
        source: { folder: path.resolve(folder), skipped: scored.report.skipped ?? 0, ...(options.limit !== undefined ? { limit: options.limit } : {}) },
        features: options.kid ? scored.features : undefined,
      },
      { force: options.force },
    );
    timings.totalMs = performance.now() - start;
    return { file, provenance, warnings, timings };
  } finally {
    await net.release();
  }
}

/** A side: a folder (scanned, its first image decoded) or a statistics file (read). */
async function openSide(side: string, options: FolderFidOptions): Promise<Side> {
  const stat = await fs.stat(side).catch(() => undefined);
  if (!stat) throw new AekitError('FILE_NOT_FOUND', 'expected a folder of images or a statistics file (.npz), found nothing', { where: side });
  if (stat.isDirectory()) {
    const stream = await ImageStream.open(side, { limit: options.limit, logger: options.logger });
    return { kind: 'folder', path: side, stream, first: await stream.firstImage() };
  }
  if (!isStatsFileName(side)) {
    const head = new Uint8Array(4);
    const handle = await fs.open(side, 'r');
    try {
      await handle.read(head, 0, 4, 0);
    } finally {
      await handle.close();
    }
    if (!isZip(head)) throw new AekitError('BAD_ARGUMENT', 'expected a folder of images or a statistics file (.npz), found another kind of file (to score one image, put it in a folder)', { where: side });
  }
  return { kind: 'stats', path: side, file: await readStatsFile(side) };
}

function shapeOf(first: FirstImage): ImageShape {
  return { height: first.height, width: first.width, channels: first.channels };
}

/**
 * The feature network: the one given; else the one an aekit statistics file was computed with,
 * when that file is still there unchanged; else the shipped network for the folders' image shape.
 * Undefined when both sides are statistics files and none was given.
 */
async function chooseNetwork(sides: Side[], options: FolderFidOptions, logger: Logger): Promise<FeatureNetwork | undefined> {
  const folders = sides.filter((s): s is Extract<Side, { kind: 'folder' }> => s.kind === 'folder');
  let file = options.features;
  if (file === undefined && folders.length === 0) return undefined;
  if (file === undefined) {
    for (const side of sides) {
      const recorded = side.kind === 'stats' ? side.file.provenance?.network : undefined;
      if (recorded && existsSync(recorded.path) && (await sha256File(recorded.path)) === recorded.sha256) {
        file = recorded.path;
        logger.info(`feature network: ${file}, the one ${side.path} was computed with`);
        break;
      }
    }
  }
  if (file === undefined) {
    const choices = folders.map((f) => ({ folder: f.path, shape: shapeOf(f.first), shipped: shippedFeatureNetwork(shapeOf(f.first)) }));
    const missing = choices.find((c) => !c.shipped);
    if (missing) throw new AekitError('BAD_ARGUMENT', `${noShippedNetwork(missing.shape)} (its first image, ${missing.shape.height}x${missing.shape.width}, decides)`, { where: missing.folder });
    if (new Set(choices.map((c) => c.shipped!.file)).size > 1) {
      const list = choices.map((c) => `${c.folder} is ${describeShape(c.shape)} (${c.shipped!.name})`).join(', ');
      throw new AekitError('BAD_ARGUMENT', `the two folders would be scored by different shipped networks: ${list}; pass one network for both with --features`);
    }
    file = choices[0].shipped!.file;
  }
  return FeatureNetwork.load(file, { preprocess: options.preprocess, batchSize: options.batchSize, threads: options.threads, runtime: options.runtime });
}

/**
 * Check that the sides can be compared: one feature dimension (`--dims` included), statistics
 * files computed with the network used. Returns the feature dimension.
 */
function checkComparable(sides: Side[], net: FeatureNetwork | undefined, options: FolderFidOptions, warnings: string[]): number {
  const d = net?.featureSize ?? (sides[0] as Extract<Side, { kind: 'stats' }>).file.featureSize;
  const netName = net ? `the feature network ${net.path}` : `${sides[0].path}`;
  if (options.dims !== undefined && options.dims !== d) {
    throw new AekitError('BAD_ARGUMENT', `--dims ${options.dims} was asked for, but ${netName} gives ${d} features (the dimension is the network's: pytorch-fid's --dims 2048 is its InceptionV3's pool3, scripts/pytorch-fid-to-onnx.py)`, { where: net?.path });
  }
  for (const side of sides) {
    if (side.kind !== 'stats') continue;
    const { file } = side;
    if (file.featureSize !== d) {
      throw new AekitError('BAD_ARGUMENT', `expected statistics of ${d} features (${netName}), found ${file.featureSize}: they come from another feature network${file.featureSize === 2048 ? " (2048: pytorch-fid's InceptionV3; pass it as --features inception.onnx, see docs/fid.md)" : ''}`, { where: side.path });
    }
    const recorded = file.provenance?.network;
    const reference = net ? { sha256: net.sha256, preprocess: net.extraction, path: net.path } : (sides.find((s) => s !== side && s.kind === 'stats') as Extract<Side, { kind: 'stats' }> | undefined)?.file.provenance?.network;
    if (!recorded) {
      warnings.push(`${side.path} holds pytorch-fid statistics (mu, sigma) without provenance: aekit cannot check that they were computed with ${net ? net.path : 'the same network'} and its preprocessing`);
      continue;
    }
    if (reference && (recorded.sha256 !== reference.sha256 || JSON.stringify(recorded.preprocess) !== JSON.stringify(reference.preprocess))) {
      const what = recorded.sha256 !== reference.sha256 ? `network ${recorded.path} (sha256 ${recorded.sha256.slice(0, 12)}...), not ${reference.path} (sha256 ${reference.sha256.slice(0, 12)}...)` : `preprocessing ${JSON.stringify(recorded.preprocess)}, not ${JSON.stringify(reference.preprocess)}`;
      throw new AekitError('BAD_ARGUMENT', `these statistics were computed with ${what}: FIDs of different feature networks are not comparable; pass the same network with --features`, { where: side.path });
    }
  }
  for (const warning of warnings) (options.logger ?? silentLogger).warn(warning);
  return d;
}

/** A side's statistics: read from its file, or computed from its folder's images. */
async function scoreSide(side: Side, net: FeatureNetwork | undefined, options: FolderFidOptions, timings: FolderFidTimings, warnings: string[], logger: Logger): Promise<Scored> {
  if (side.kind === 'stats') {
    const { file } = side;
    return { report: { path: side.path, kind: file.kind === 'aekit' ? 'aekit-stats' : 'pytorch-fid-stats', ...(file.count !== undefined ? { count: file.count } : {}) }, stats: file.stats, features: file.features };
  }
  const features = await folderFeatures(side, net!, options, timings);
  const count = features.length / net!.featureSize;
  if (count < 2) throw new AekitError('BAD_DATA', `expected at least 2 images for FID's covariance, found ${count}`, { where: side.path });
  const gray = side.stream.colourImagesMadeGray;
  if (gray > 0) {
    const warning = `${side.path}: ${gray} colour images were read as gray (BT.601 luma): the feature network ${net!.path} takes 1 channel`;
    warnings.push(warning);
    logger.warn(warning);
  }
  const t0 = performance.now();
  const stats = featureStats(features, count, net!.featureSize);
  timings.statisticsMs += performance.now() - t0;
  const skipped = Object.values(side.stream.report().skipped).reduce((s, n) => s + n, 0);
  return { report: { path: side.path, kind: 'folder', count, skipped, firstImage: shapeOf(side.first) }, stats, features: options.kid ? features : undefined };
}

/**
 * Features of every image of a folder, batch by batch. Images are read with the network's channels
 * (gray replicated to RGB, as pytorch-fid's `Image.convert('RGB')`; colour to luma for a gray
 * network) and transparency ignored as PIL ignores it, then preprocessed as the network declares.
 */
async function folderFeatures(side: Extract<Side, { kind: 'folder' }>, net: FeatureNetwork, options: FolderFidOptions, timings: FolderFidTimings): Promise<Float32Array> {
  const { stream } = side;
  const d = net.featureSize;
  const channels = net.channels as 1 | 3;
  const out = new Float32Array(stream.total * d);
  const stage = `features of ${side.path}`;
  let count = 0;
  for await (const batch of stream.batches({ channels, alpha: 'ignore', maxImages: options.batchSize ?? DEFAULT_EVAL_BATCH, maxValues: FEATURE_BATCH_VALUES })) {
    const shape: ImageShape = { height: batch.height, width: batch.width, channels };
    const problem = net.problemWith(shape);
    if (problem) {
      const hint = options.features === undefined ? '; pass a network for these images with --features' : '';
      throw new AekitError('BAD_ARGUMENT', `the feature network ${net.path} cannot score this ${batch.width}x${batch.height} image: ${problem}${hint}`, { where: path.join(side.path, batch.files[0]) });
    }
    const before = count;
    const features = await net.features(batch.images, batch.count, shape, 'NHWC', 'unit', (done) => options.onProgress?.({ stage, done: Math.min(before + done, stream.total), total: stream.total }));
    out.set(features, count * d);
    count += batch.count;
    options.onProgress?.({ stage, done: batch.done, total: stream.total });
  }
  timings.decodeMs += stream.decodeMs;
  return out.subarray(0, count * d);
}

function networkReport(net: FeatureNetwork): FeatureNetworkReport {
  return { path: net.path, sha256: net.sha256, featureSize: net.featureSize, preprocess: net.extraction, declared: net.declared };
}

/** The sample-size warning of FID between sides of these counts (see `smallSampleReasons`). */
function sampleSizeWarning(sides: FidSideReport[], featureSize: number, kidReported: boolean): string | undefined {
  const known = sides.map((s) => s.count).filter((n): n is number => n !== undefined);
  if (known.length === 0) return undefined;
  const reasons = smallSampleReasons(Math.min(...known), featureSize);
  if (!reasons) return undefined;
  const n = (c: number | undefined) => (c === undefined ? 'not recorded' : c.toLocaleString('en-US'));
  const counts = sides[0].count === sides[1].count ? `n = ${n(sides[0].count)} images per side` : `n = ${n(sides[0].count)} (${sides[0].path}) and ${n(sides[1].count)} (${sides[1].path}) images`;
  return (
    `FID at ${counts} (${reasons}) is biased upwards by an amount that depends on n: compare FIDs only at equal n; ` +
    `${kidReported ? 'KID (reported beside it) is unbiased' : 'KID (--kid) is unbiased'} and is the number to trust at this n.`
  );
}
