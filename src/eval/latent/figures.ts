/**
 * The latent tools' figures as PNG bytes: grids of decoded samples (a block of rows per class for
 * conditional models), attribute edits (each input beside its edits) and the scatter of codes.
 * `aekit latent` writes them to files; library users get the same pictures.
 */
import { imageGridPng } from '../../core/image-io';
import type { ImageShape } from '../images';
import type { LatentModel } from './artifacts';
import { applyAttributeVector } from './attribute';
import type { AttributeVector } from './attribute';
import type { LatentDistribution } from './distribution';
import { sampleImages } from './fit';
import type { LatentImages } from './images';
import { LATENT_FIGURE_SCALE } from './interpolate';
import { projectTo2d, scatterPng } from './scatter';
import type { Projection } from './scatter';

/** A grid of NHWC images in [0, 1], `columns` to a row, at {@link LATENT_FIGURE_SCALE}. */
export function latentGridPng(images: Float32Array, count: number, shape: ImageShape, columns: number): Buffer {
  return imageGridPng(images, count, shape.height, shape.width, shape.channels, { columns, scale: LATENT_FIGURE_SCALE });
}

/** Options of {@link sampleGrid}. */
export interface SampleGridOptions {
  count: number;
  /** Seed of the draw. */
  seed: number;
  /** Conditional models: the classes to generate, `count` split evenly, one block of rows per class. */
  classes?: readonly number[];
  /** Images per row (default: a square grid, or one row per class). */
  columns?: number;
}

/** A grid of samples: the decoded images and their PNG. */
export interface SampleGrid {
  /** NHWC images in [0, 1], class by class. */
  images: Float32Array;
  columns: number;
  png: Buffer;
}

/** Draw `count` codes from a distribution, decode them and lay them out as a grid. */
export async function sampleGrid(model: LatentModel, distribution: LatentDistribution, options: SampleGridOptions): Promise<SampleGrid> {
  const { count, classes } = options;
  // One row per class: each row holds count / classes samples of one class.
  const perClass = classes ? Math.ceil(count / classes.length) : count;
  const labels = classes ? Int32Array.from({ length: count }, (_, i) => classes[Math.floor(i / perClass)]) : undefined;
  const images = await sampleImages(model, distribution, count, options.seed, labels);
  const columns = options.columns ?? (classes ? perClass : Math.ceil(Math.sqrt(count)));
  return { images, columns, png: latentGridPng(images, count, model.imageShape, columns) };
}

/**
 * Apply an attribute vector at each strength and draw one row per image: the input image, then the
 * decoded code at each strength.
 */
export async function attributeEditGrid(model: LatentModel, images: LatentImages, vector: AttributeVector, scales: readonly number[]): Promise<Buffer> {
  const edited = await applyAttributeVector(model, images, vector, scales);
  const columns = scales.length + 1;
  const per = images.height * images.width * images.channels;
  const grid = new Float32Array(images.count * columns * per);
  for (let i = 0; i < images.count; i++) {
    grid.set(images.images.subarray(i * per, (i + 1) * per), i * columns * per);
    grid.set(edited.subarray(i * scales.length * per, (i + 1) * scales.length * per), (i * columns + 1) * per);
  }
  return latentGridPng(grid, images.count * columns, model.imageShape, columns);
}

/** The scatter plot of codes: the PNG, the projection drawn, and the code size it came from. */
export interface CodeScatter {
  png: Buffer;
  projection: Projection;
  /** Size of the codes (2: drawn as they are; more: their first two principal components). */
  size: number;
}

/**
 * Scatter plot of the codes of `images` coloured by class. The default title names the family,
 * the image count and, for codes larger than 2, the PCA.
 */
export async function codeScatter(model: LatentModel, images: LatentImages, options: { title?: string } = {}): Promise<CodeScatter> {
  const { values, size } = await model.features(images.images, images.count, model.numClasses > 0 ? images.labels : undefined);
  const projection = projectTo2d(values, images.count, size);
  const title = options.title ?? `${model.family} codes of ${images.count} images${projection.method === 'pca' ? ` (PCA of ${size}-D)` : ''}`;
  return { png: scatterPng(projection, { title, labels: images.labels, classNames: images.classNames }), projection, size };
}
