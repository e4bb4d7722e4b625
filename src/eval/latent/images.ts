/**
 * Where the latent tools read images from: a dataset (by name, such as bundled MNIST, or any
 * `DatasetSpec`: IDX files, a data config), a folder of images (one subfolder per class, so folder
 * names can name attribute groups), or single files. Images come at the encoder's size: folders
 * and files are resized, other datasets must already match.
 */
import { AekitError } from '../../core/errors';
import { Rng } from '../../core/rng';
import { NAMED_DATASETS, loadDataset, loadImageFiles, loadImageFolder, namedDatasetSpec, subset } from '../../data';
import type { DatasetSpec, FolderDataset, ImageDataset, Split } from '../../data';
import type { ImageShape } from '../images';

/** Data sets the latent tools can read by name (those of `NAMED_DATASETS`). */
export const LATENT_DATASETS = NAMED_DATASETS;

/** Where images come from (exactly one of `dataset`, `folder`, `files`). */
export interface LatentImageSource {
  /** A data set by name (one of {@link LATENT_DATASETS}), or a full spec; an image folder's size is the encoder's. */
  dataset?: string | DatasetSpec;
  /** Split of a bundled data set (default 'test': codes of images the model did not train on). */
  split?: Split;
  /** A folder of images, one subfolder per class. */
  folder?: string;
  /** Single image files (unlabelled). */
  files?: readonly string[];
  /** Keep this many images, drawn at random (seeded) when the source has more. */
  limit?: number;
  /** Seed of the `limit` draw and of coloured MNIST's tints. */
  seed?: number;
}

/** Images of a source, with per-image file names where the source has files. */
export type LatentImages = ImageDataset & { files?: string[] };

/**
 * Read a source's images at `shape` (NHWC in [0, 1]); labels are class indices (folder names for
 * folders, digits for MNIST) or -1 for single files.
 * @throws AekitError BAD_ARGUMENT for none or several sources, or a bundled set whose image shape
 *   is not the encoder's; the loaders' errors for missing or unreadable files.
 */
export async function loadLatentImages(source: LatentImageSource, shape: ImageShape): Promise<LatentImages> {
  const given = [source.dataset, source.folder, source.files].filter((s) => s !== undefined);
  if (given.length !== 1) throw new AekitError('BAD_ARGUMENT', `give exactly one image source (a data set name, a folder or files), got ${given.length}`, { where: 'images' });
  const seed = source.seed ?? 0;
  const channels = shape.channels === 3 ? 3 : 1;
  let data: LatentImages;
  if (source.dataset !== undefined) {
    let spec = typeof source.dataset === 'string' ? namedDatasetSpec(source.dataset) : source.dataset;
    if (!spec) {
      throw new AekitError('UNKNOWN_NAME', `unknown data set '${String(source.dataset)}'; expected one of: ${LATENT_DATASETS.join(', ')} (or a folder)`, { where: 'dataset' });
    }
    if (spec.name === 'folder') spec = { ...spec, height: shape.height, width: shape.width, channels };
    data = await loadDataset(spec, source.split ?? 'test', seed);
    if (data.height !== shape.height || data.width !== shape.width || data.channels !== shape.channels) {
      throw new AekitError(
        'BAD_ARGUMENT',
        `${spec.name} images are ${data.height}x${data.width}x${data.channels}, the encoder takes ${shape.height}x${shape.width}x${shape.channels}; use a folder of images instead`,
        { where: 'dataset' },
      );
    }
  } else if (source.folder !== undefined) {
    data = await loadImageFolder(source.folder, { height: shape.height, width: shape.width, channels });
  } else {
    data = await loadImageFiles(source.files!, { height: shape.height, width: shape.width, channels });
  }
  if (source.limit !== undefined && source.limit < data.count) {
    // Random rather than the first N: a folder is sorted by class, so its first N is one class.
    const picked = Rng.derive(seed, 'latent-images').permutation(data.count).subarray(0, source.limit).sort();
    data = subset(data as FolderDataset, picked);
  }
  return data;
}

/** The images at `indices` (labels and file names follow). */
export function subsetLatentImages(images: LatentImages, indices: readonly number[]): LatentImages {
  return subset(images as FolderDataset, indices);
}
