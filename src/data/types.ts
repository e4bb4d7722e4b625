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

/**
 * Bounds [low, high] of each value range a model can see and produce: 'unit' is [0, 1], 'symmetric'
 * [-1, 1] (the DCGAN convention). The range a model was trained in is recorded with every run and
 * exported with the model, because mixing them (feeding [0, 1] data to a tanh decoder, or scoring
 * [-1, 1] samples with a [0, 1] FID classifier) was the most common bug in the course reports aekit
 * reproduces, and it fails silently: losses still go down. The one definition: artifact metadata,
 * the server and the browser module all read this table.
 */
export const VALUE_RANGES = Object.freeze({ unit: [0, 1], symmetric: [-1, 1] } as const);
/** See {@link VALUE_RANGES}. */
export type ValueRange = keyof typeof VALUE_RANGES;

/** An RGB colour with components in [0, 1]. */
export type Rgb = [number, number, number];

/** A file a folder loader left out, and why (see `SKIP_REASONS` in src/data/decode-types.ts). */
export interface SkippedFile {
  /** Path relative to the folder's root. */
  file: string;
  /** What it is counted under, e.g. 'not an image', 'corrupt PNG'. */
  reason: string;
  /** Sub-category the reason is counted by (a file extension, an image format, a variant). */
  kind?: string;
  /** What exactly was wrong. */
  detail?: string;
}

/** What reading a folder of images found: the one line the CLI prints comes from this. */
export interface FolderReadReport {
  /** The folder, as given. */
  root: string;
  /** Images decoded. */
  read: number;
  /** Class names; empty for a flat folder (unlabelled images). */
  classNames: string[];
  /** Files left out, counted by reason, e.g. { 'not an image': 3, 'corrupt PNG': 1 }. */
  skipped: Record<string, number>;
  /** Every file left out, in scan order. */
  skippedFiles: SkippedFile[];
  /** Hidden and system entries (dot files, __MACOSX, Thumbs.db, desktop.ini) passed over without counting. */
  ignored: number;
}

/**
 * A dataset read from a folder of images (see `loadImageFolder`). A flat folder of images is one
 * unlabelled set (labels -1, no class names); otherwise every folder holding images is a class.
 */
export interface FolderDataset extends ImageDataset {
  /** Path of each image relative to the root, aligned with `labels` (e.g. to join attribute lists). */
  files: string[];
  /** Paths (relative to the root) of the files that were left out; hidden entries are not listed. */
  skipped: string[];
  /** What the read found and left out (of the whole folder, also in a split's subset). */
  report: FolderReadReport;
}

/** A grayscale dataset tinted per image (see `tint`); `colorIndex` doubles as a domain label. */
export interface TintedDataset extends ImageDataset {
  /** Index into `colors` of the colour each image was tinted with. */
  colorIndex: Int32Array;
  /** The palette `colorIndex` refers to. */
  colors: Rgb[];
}
