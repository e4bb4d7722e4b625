/**
 * The format of a fine-tuning bundle (written by ./web-bundle.ts, read by the browser module's
 * src/serve/web/fine-tune.ts): a folder with the compiled training step (`step.onnx`, Adam in the
 * graph), the state it updates (`state.bin`: float32 little-endian values back to back) and this
 * manifest (`train-step.json`) naming every graph input and output.
 *
 * Pure types and constants with no imports, because esbuild bundles this file into
 * `dist/web/aekit-web.js`.
 */

/** `format` of the manifest. */
export const TRAIN_STEP_FORMAT = 'aekit-train-step';
/** Newest manifest version this aekit writes and reads. */
export const TRAIN_STEP_VERSION = 1;
/** File names inside a bundle folder. */
export const TRAIN_STEP_FILES = Object.freeze({ manifest: 'train-step.json', model: 'step.onnx', state: 'state.bin' } as const);

/**
 * A noise input the step needs, drawn afresh for every step (a VAE's reparameterisation eps, a
 * denoising AE's corruption). The values are laid out as `drawShape` (NHWC for image-shaped noise,
 * as the images); the graph input is declared with `dims` (the same memory order).
 */
export type TrainStepNoise =
  | { input: string; dims: number[]; drawShape: number[]; distribution: 'normal'; mean: number; std: number }
  | { input: string; dims: number[]; drawShape: number[]; distribution: 'uniform'; low: 0; high: 1 };

/** What a tensor of the state is to the step. */
export type TrainStepTensorRole =
  /** A trained parameter: read from `input`, its updated value written to `output`. */
  | 'parameter'
  /** Updated without gradients (BatchNorm moving statistics). */
  | 'statistic'
  /** Read only (a weight another phase trains). */
  | 'frozen'
  /** Adam's first or second moment of the parameter `of`. */
  | 'adam-m'
  | 'adam-v';

/** One tensor of `state.bin`. */
export interface TrainStepTensor {
  /** `<part>/<weight name>` for weights (as in checkpoints), `<parameter>#m` / `#v` for moments. */
  name: string;
  role: TrainStepTensorRole;
  /** Graph input that reads it and graph output with its value after the step (none: read only). */
  input: string;
  output?: string;
  shape: number[];
  /** Offset in float32 values into `state.bin`. */
  offset: number;
  /** The parameter whose moment this is (roles adam-m, adam-v). */
  of?: string;
}

/** The manifest, `train-step.json`. */
export interface TrainStepManifest {
  format: typeof TRAIN_STEP_FORMAT;
  version: number;
  family: string;
  /** The training phase compiled (families with one phase only: 'train'). */
  phase: string;
  /** Files of the bundle, relative to the manifest. */
  files: { model: string; state: string };
  /** The step is compiled for exactly this many images. */
  batchSize: number;
  imageShape: { height: number; width: number; channels: number };
  /** Range the model sees and produces; images are fed in [0, 1] and the graph maps them to it. */
  valueRange: 'unit' | 'symmetric';
  /** The batch: NHWC float32 in [0, 1], `batchSize * height * width * channels` values. */
  images: { input: string; dims: number[] };
  /** Class labels, fed one-hot (conditional families and the classifier). */
  labels?: { input: string; numClasses: number };
  noise: TrainStepNoise[];
  /** Scalars fed every step (the KL weight `beta`, a Gumbel temperature), at their values for the next step of the run. */
  scalars: { input: string; value: number }[];
  optimizer: {
    kind: 'adam';
    /** The run's learning rate at the checkpoint's epoch. */
    learningRate: number;
    beta1: number;
    beta2: number;
    epsilon: number;
    /** Gradients are clipped to this global L2 norm (absent: not clipped). */
    clipNorm?: number;
    /** Adam updates applied so far (t of the bias corrections is step + 1 for the next one). */
    step: number;
    /** Scalar inputs fed every step: lr / (1 - beta1^t) and 1 - beta2^t. */
    lrOverC1Input: string;
    c2Input: string;
  };
  tensors: TrainStepTensor[];
  /** Logged loss terms, in the order the trainer logs them. */
  losses: { name: string; output: string }[];
  /** The global gradient norm before clipping. */
  gradNorm: string;
  /** Where the state comes from: `<run>/checkpoints/<label>`, the run's step count and epoch. */
  source: { checkpoint: string; trainerStep: number; epoch: number };
}
