/**
 * The in-memory data types every stage shares. Images are always stored in [0, 1]; a model that
 * wants [-1, 1] converts a copy with `toRange` and records the range with the run.
 */

/** Images in memory: NHWC float32 in [0, 1], labels are class indices (or -1 when unlabelled). */
export interface ImageDataset {
  /** 'mnist', 'colored-mnist', or the folder path. */
  name: string;
  /** count*height*width*channels values in [0, 1], NHWC order. */
  images: Float32Array;
  /** One class index per image, or -1 when unlabelled. */
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Name of each class index: '0'..'9' for MNIST; relative folder paths for image folders. */
  classNames: string[];
}

/** The value range a model sees: [0, 1] ('unit') or [-1, 1] ('symmetric'). */
export type ValueRange = 'unit' | 'symmetric';

/** An RGB colour with components in [0, 1]. */
export type Rgb = [number, number, number];

/** A dataset read from a folder of images (see `loadImageFolder`). */
export interface FolderDataset extends ImageDataset {
  /** Path of each image relative to the root, aligned with `labels` (e.g. to join attribute lists). */
  files: string[];
  /** Files and folders that were ignored (not PNG/JPEG, or hidden), relative to the root. */
  skipped: string[];
}

/** A grayscale dataset tinted per image (see `tint`); `colorIndex` doubles as a domain label. */
export interface TintedDataset extends ImageDataset {
  /** Index into `colors` of the colour each image was tinted with. */
  colorIndex: Int32Array;
  /** The palette `colorIndex` refers to. */
  colors: Rgb[];
}
