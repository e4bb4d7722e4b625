/**
 * Fitting a distribution to an encoder's codes, saving it next to the artifact, and sampling
 * images from it through the decoder (the faces study's way of generating with a plain
 * autoencoder; a VAE can also sample its N(0, I) prior without fitting anything).
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write';
import { AekitError } from '../../core/errors';
import type { LatentModel } from './artifacts';
import { fitGaussian, fitGmm, parseDistribution, sampleCodes, standardNormal } from './distribution';
import type { CovarianceType, LatentDistribution } from './distribution';
import type { LatentImages } from './images';

/** Kinds of fitted distribution. */
export type DistributionKind = LatentDistribution['kind'];

/** Components of a GMM by default: one per MNIST digit, the usual number of modes of a labelled set. */
export const DEFAULT_GMM_COMPONENTS = 10;

/** Where a fitted distribution of an encoder is saved: `<encoder>.latent-<kind>.json` next to it. */
export function distributionPath(encoderPath: string, kind: DistributionKind): string {
  const dir = path.dirname(encoderPath);
  return path.join(dir, `${path.basename(encoderPath, '.onnx')}.latent-${kind}.json`);
}

/** Options of {@link fitLatentDistribution}. */
export interface LatentFitOptions {
  kind: DistributionKind;
  covariance?: CovarianceType;
  /** GMM components (default {@link DEFAULT_GMM_COMPONENTS}). */
  components?: number;
  seed?: number;
}

/** Encode `images` and fit a Gaussian or a GMM to their codes; `source` records where they came from. */
export async function fitLatentDistribution(model: LatentModel, images: LatentImages, options: LatentFitOptions): Promise<LatentDistribution> {
  const codes = await model.encode(images.images, images.count, model.numClasses > 0 ? images.labels : undefined);
  const size = model.latentSize;
  const fitted =
    options.kind === 'gmm'
      ? fitGmm(codes, size, { components: options.components ?? DEFAULT_GMM_COMPONENTS, covariance: options.covariance, seed: options.seed })
      : fitGaussian(codes, size, { covariance: options.covariance });
  return { ...fitted, source: { encoder: path.basename(model.encoderPath), runId: model.metadata.runId, images: images.name, count: images.count } };
}

/** Write a distribution as JSON (atomically, replacing an older fit). */
export async function saveDistribution(distribution: LatentDistribution, file: string): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(distribution, null, 1) + '\n', { force: true });
}

/** Read a distribution file written by {@link saveDistribution}, checked against the code size. */
export async function loadDistribution(file: string, latentSize?: number): Promise<LatentDistribution> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new AekitError('FILE_NOT_FOUND', 'cannot read the latent distribution', { where: file });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AekitError('BAD_DATA', `not valid JSON: ${(error as Error).message}`, { where: file });
  }
  return parseDistribution(value, file, latentSize);
}

/**
 * The distribution `sample` draws from. `choice`: 'prior' (N(0, I)), 'gaussian' or 'gmm' (the fit
 * saved next to the encoder), a file path, or undefined for the first that applies of: the saved
 * Gaussian, the saved GMM, the family's N(0, I) prior.
 * @throws AekitError FILE_NOT_FOUND when nothing was fitted and the family has no N(0, I) prior.
 */
export async function resolveDistribution(model: LatentModel, choice?: string): Promise<{ distribution: LatentDistribution; from: string }> {
  const size = model.latentSize;
  if (choice === 'prior') return { distribution: standardNormal(size), from: 'N(0, I)' };
  if (choice === 'gaussian' || choice === 'gmm') {
    const file = distributionPath(model.encoderPath, choice);
    if (!existsSync(file)) throw new AekitError('FILE_NOT_FOUND', `no fitted ${choice} next to the encoder; run \`aekit latent fit ${model.encoderPath} --kind ${choice} ...\` first`, { where: file });
    return { distribution: await loadDistribution(file, size), from: file };
  }
  if (choice !== undefined) return { distribution: await loadDistribution(choice, size), from: choice };
  for (const kind of ['gaussian', 'gmm'] as const) {
    const file = distributionPath(model.encoderPath, kind);
    if (existsSync(file)) return { distribution: await loadDistribution(file, size), from: file };
  }
  if (model.info.prior === 'standard-normal') return { distribution: standardNormal(size), from: 'N(0, I)' };
  throw new AekitError('FILE_NOT_FOUND', `a ${model.family} has no N(0, I) prior and no distribution was fitted next to its encoder; run \`aekit latent fit ${model.encoderPath} ...\` first`, {
    where: distributionPath(model.encoderPath, 'gaussian'),
  });
}

/**
 * Draw `count` codes from a distribution (seeded) and decode them: NHWC images in [0, 1].
 * Conditional decoders need one class per sample (e.g. only 5s and 7s).
 */
export async function sampleImages(model: LatentModel, distribution: LatentDistribution, count: number, seed: number, labels?: ArrayLike<number>): Promise<Float32Array> {
  if (distribution.latentSize !== model.latentSize) {
    throw new AekitError('BAD_ARGUMENT', `the distribution is over codes of size ${distribution.latentSize}, the decoder takes ${model.latentSize}`);
  }
  return model.decode(sampleCodes(distribution, count, seed), count, labels);
}
