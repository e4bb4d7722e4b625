/**
 * What the latent tools read besides a source's images: an attribute vector file checked against
 * the encoder it is applied with, several encoders that must take the same images, and the pairs
 * of images an interpolation walks between.
 */
import { promises as fs } from 'node:fs';
import { AekitError } from '../../core/errors';
import { openLatentModel } from './artifacts';
import type { LatentModel } from './artifacts';
import { parseAttributeVector } from './attribute';
import type { AttributeVector } from './attribute';
import { subsetLatentImages } from './images';
import type { LatentImages } from './images';

/**
 * Read an attribute vector (written by `aekit latent vector`) to apply with `model`.
 * @throws AekitError FILE_NOT_FOUND or BAD_DATA for an unreadable file or one that is not a vector
 *   of the encoder's code size; BAD_ARGUMENT when it was made with the encoder of another run.
 */
export async function loadAttributeVector(file: string, model: LatentModel): Promise<AttributeVector> {
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new AekitError('FILE_NOT_FOUND', 'cannot read the attribute vector', { where: file });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AekitError('BAD_DATA', `not valid JSON: ${(error as Error).message}`, { where: file });
  }
  const vector = parseAttributeVector(parsed, file, model.latentSize);
  if (vector.encoder.runId !== model.metadata.runId) {
    // Codes of another run live in another space: the vector would point nowhere in particular.
    throw new AekitError('BAD_ARGUMENT', `the vector was made with the encoder of run '${vector.encoder.runId}', this encoder is from run '${model.metadata.runId}'`, { where: file });
  }
  return vector;
}

/**
 * Open several encoders (each with the decoder next to it, or `decoder`) that are compared on the
 * same images; on any error the ones already open are released.
 * @throws AekitError BAD_ARGUMENT when none is given or they take different image shapes.
 */
export async function openLatentModels(encoders: readonly string[], options: { decoder?: string } = {}): Promise<LatentModel[]> {
  if (encoders.length === 0) throw new AekitError('BAD_ARGUMENT', 'expected at least one encoder, found none');
  const models: LatentModel[] = [];
  try {
    for (const encoder of encoders) models.push(await openLatentModel(encoder, options));
    const shape = models[0].imageShape;
    const other = models.find((m) => m.imageShape.height !== shape.height || m.imageShape.width !== shape.width || m.imageShape.channels !== shape.channels);
    if (other) throw new AekitError('BAD_ARGUMENT', `the encoders take different image shapes (${other.encoderPath} vs ${models[0].encoderPath})`);
    return models;
  } catch (error) {
    await Promise.all(models.map((m) => m.release()));
    throw error;
  }
}

/**
 * Consecutive images as the two ends of interpolation walks: images 0 -> 1, 2 -> 3, ... (an odd
 * last image is left out).
 * @throws AekitError BAD_ARGUMENT for fewer than 2 images.
 */
export function imagePairs(images: LatentImages): { from: LatentImages; to: LatentImages } {
  if (images.count < 2) throw new AekitError('BAD_ARGUMENT', `need at least 2 images to interpolate, found ${images.count}`);
  const pairs = Math.floor(images.count / 2);
  return {
    from: subsetLatentImages(images, Array.from({ length: pairs }, (_, i) => 2 * i)),
    to: subsetLatentImages(images, Array.from({ length: pairs }, (_, i) => 2 * i + 1)),
  };
}
