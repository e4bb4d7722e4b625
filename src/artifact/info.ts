/**
 * The one derivation of what an artifact *is* for the stages that use it: which input takes the
 * latent code and how wide it is, which output is the code, the image shape, the label input and
 * class count, a classifier's class scores, the prior and whether the artifact can be sampled. serve, eval, the latent tools,
 * bench and the browser module all read these facts here, never from tensor shapes of their own.
 *
 * Pure code (no Node imports): the browser module bundles it.
 */
import { AekitError } from '../core/errors';
import type { ArtifactMetadata, ArtifactPart, CategoricalLayout, FeatureExtraction, ImageShape, SamplePrior, TensorSpec, ValueRange } from './metadata';

/** Parts whose input is a latent code and whose output is images (a GAN generator decodes N(0, I)). */
export const DECODING_PARTS: readonly ArtifactPart[] = Object.freeze(['decoder', 'generator']);

/** Priors that can be drawn from the artifact alone (no training codes needed). */
export const DRAWABLE_PRIORS: readonly SamplePrior[] = Object.freeze(['standard-normal', 'uniform-categorical', 'gaussian-and-categorical']);

/** A conditional artifact's label input. */
export interface LabelInfo {
  /** The input's name. */
  input: string;
  encoding: 'one-hot' | 'index';
  /** Classes: the one-hot width, or `numClasses` of the metadata for class-index inputs. */
  numClasses: number;
}

/** What an artifact is, derived once from its metadata. */
export interface ArtifactInfo {
  readonly metadata: ArtifactMetadata;
  readonly family: string;
  readonly part: ArtifactPart;
  readonly valueRange: ValueRange;
  /** Shape of the images it reads or writes (`aekit.imageShape`, else its first NCHW tensor). */
  readonly imageShape?: ImageShape;
  /** Its first image (NCHW) input: encoders, classifiers, discriminators, translators. */
  readonly imageInput?: string;
  /** Its first image (NCHW) output: decoders, generators, translators. */
  readonly imageOutput?: string;
  /** Decoders and generators: the input that takes the code (the one that is not the label), and its width. */
  readonly latentInput?: { name: string; size: number };
  /**
   * Encoders: the output that is the decoder's whole input (`code` of an autoencoder, `mu` of a
   * Gaussian encoder), when the family has one; joint and categorical codes have none.
   */
  readonly codeOutput?: { name: string; size: number };
  /** Width of the latent code: the latent input's, the code output's, else `aekit.latentSize`. */
  readonly latentSize?: number;
  /** The label input of a conditional artifact. */
  readonly label?: LabelInfo;
  /** Classes of a conditional model or a classifier. */
  readonly numClasses?: number;
  /** Classifiers: the output that scores the classes (see {@link ClassScores}). */
  readonly classScores?: ClassScores;
  /** How the family draws decoder inputs (`aekit.prior`, or the caller's fallback for older artifacts). */
  readonly prior?: SamplePrior;
  /** The categorical part of the code (gumbel-vae, joint-vae). */
  readonly categorical?: CategoricalLayout;
  /**
   * How to use it as a feature network (FID, KID): `aekit.features`, else, for a classifier with a
   * `features` output, that output on images of its own shape and range, unresized.
   */
  readonly features?: FeatureExtraction;
  /** True when codes can be drawn from the prior without data and decoded: `/sample`, the web page's sampler. */
  readonly canSample: boolean;
  /** Why {@link canSample} is false. */
  readonly whyNoSample?: string;
}

/** A classifier's class-score output, [batch, numClasses]. */
export interface ClassScores {
  /** The output's name. */
  output: string;
  /** Its width: the classes (labels are 0 .. numClasses - 1). */
  numClasses: number;
  /** 'logits': the probabilities are their softmax; 'probabilities': the softmax is in the graph. */
  kind: 'logits' | 'probabilities';
}

/** Options of {@link describeArtifact}. */
export interface DescribeOptions {
  /** The prior of a family, for artifacts written before export recorded `aekit.prior` (Node callers pass the registry's). */
  priorOf?: (family: string) => SamplePrior | undefined;
  /** Where the metadata came from, for error messages. */
  where?: string;
}

/** Width of a [batch, n] tensor, or undefined when it has another rank or a symbolic width. */
function rowWidth(spec: TensorSpec | undefined): number | undefined {
  if (!spec || spec.shape.length !== 2) return undefined;
  const width = spec.shape[1];
  return typeof width === 'number' && width > 0 ? width : undefined;
}

function imageShapeOf(spec: TensorSpec | undefined): ImageShape | undefined {
  if (!spec || spec.layout !== 'NCHW') return undefined;
  const [, channels, height, width] = spec.shape;
  if (![channels, height, width].every((d) => typeof d === 'number' && d > 0)) return undefined;
  return { channels: channels as number, height: height as number, width: width as number };
}

/** The output of an aekit classifier that holds its penultimate features (src/models/classifier.ts). */
export const CLASSIFIER_FEATURES_OUTPUT = 'features';

/**
 * The feature extraction an artifact declares, checked against its tensors, or the one of an aekit
 * classifier (its `features` output on its own image shape and value range).
 */
function featuresOf(metadata: ArtifactMetadata, imageInput: TensorSpec | undefined, imageShape: ImageShape | undefined, where: string): FeatureExtraction | undefined {
  const declared = metadata.features;
  if (!declared) {
    if (metadata.part !== 'classifier' || !imageInput || !imageShape) return undefined;
    if (rowWidth(metadata.outputs.find((o) => o.name === CLASSIFIER_FEATURES_OUTPUT)) === undefined) return undefined;
    const size = { height: imageShape.height, width: imageShape.width };
    return { output: CLASSIFIER_FEATURES_OUTPUT, input: imageInput.name, size, resize: 'none', range: metadata.valueRange, grayToRgb: false };
  }
  const field = `${where}: aekit.features`;
  if (!metadata.outputs.some((o) => o.name === declared.output)) {
    throw new AekitError('BAD_DATA', `features output '${declared.output}' is not among the outputs (${metadata.outputs.map((o) => o.name).join(', ')})`, { where: `${field}.output` });
  }
  const input = declared.input ?? imageInput?.name;
  if (input === undefined || !metadata.inputs.some((i) => i.name === input)) {
    throw new AekitError('BAD_DATA', `expected an image input, found ${declared.input ? `'${declared.input}', which is not among` : 'none among'} the inputs (${metadata.inputs.map((i) => i.name).join(', ')})`, { where: `${field}.input` });
  }
  if (declared.resize !== 'graph' && !declared.size) {
    throw new AekitError('BAD_DATA', `resize '${declared.resize}' needs the network's input size (aekit.features.size)`, { where: `${field}.size` });
  }
  return { ...declared, input };
}

/** The output of an aekit classifier that holds its class scores before the softmax (src/models/classifier.ts). */
export const CLASSIFIER_LOGITS_OUTPUT = 'logits';

/**
 * A classifier's class scores: its first output when `outputActivation` (the first output's) is a
 * softmax, else its `logits` output; none when the width is not fixed or differs from `aekit.numClasses`.
 */
function classScoresOf(metadata: ArtifactMetadata): ClassScores | undefined {
  if (metadata.part !== 'classifier') return undefined;
  const softmax = metadata.outputActivation === 'softmax';
  const spec = softmax ? metadata.outputs[0] : metadata.outputs.find((o) => o.name === CLASSIFIER_LOGITS_OUTPUT);
  const width = rowWidth(spec);
  if (!spec || width === undefined || (metadata.numClasses !== undefined && width !== metadata.numClasses)) return undefined;
  return { output: spec.name, numClasses: width, kind: softmax ? 'probabilities' : 'logits' };
}

/** Names of the outputs that can be a whole decoder input, in order of preference. */
const CODE_OUTPUTS = ['mu', 'code'] as const;

/**
 * Describe an artifact from its (validated) metadata.
 *
 * @throws AekitError BAD_DATA when the metadata contradicts itself: a label input that is not an
 *   input, or a one-hot width that differs from `aekit.numClasses`.
 */
export function describeArtifact(metadata: ArtifactMetadata, options: DescribeOptions = {}): ArtifactInfo {
  const where = options.where ?? `${metadata.family} ${metadata.part}`;
  const labelName = metadata.labelInput?.name;
  let label: LabelInfo | undefined;
  if (metadata.labelInput) {
    const spec = metadata.inputs.find((i) => i.name === labelName);
    if (!spec) throw new AekitError('BAD_DATA', `label input '${labelName}' is not among the inputs (${metadata.inputs.map((i) => i.name).join(', ')})`, { where: `${where}: aekit.labelInput` });
    const width = metadata.labelInput.encoding === 'one-hot' ? rowWidth(spec) : metadata.numClasses;
    if (width === undefined) throw new AekitError('BAD_DATA', `label input '${labelName}' has no fixed class count`, { where: `${where}: aekit.labelInput` });
    if (metadata.numClasses !== undefined && width !== metadata.numClasses) {
      throw new AekitError('BAD_DATA', `one-hot label input '${labelName}' has width ${width} but aekit.numClasses is ${metadata.numClasses}`, { where: `${where}: aekit.numClasses` });
    }
    label = { input: spec.name, encoding: metadata.labelInput.encoding, numClasses: width };
  }

  const imageInputSpec = metadata.inputs.find((i) => i.layout === 'NCHW');
  const imageOutputSpec = metadata.outputs.find((o) => o.layout === 'NCHW');
  const decodes = DECODING_PARTS.includes(metadata.part);
  const mainInput = metadata.inputs.find((i) => i.name !== labelName);
  const latentWidth = decodes ? rowWidth(mainInput) : undefined;
  const latentInput = decodes && mainInput && latentWidth !== undefined ? { name: mainInput.name, size: latentWidth } : undefined;

  let codeOutput: ArtifactInfo['codeOutput'];
  if (metadata.part === 'encoder') {
    for (const name of CODE_OUTPUTS) {
      const size = rowWidth(metadata.outputs.find((o) => o.name === name));
      // A joint code (joint-vae's mu beside a categorical part) is not a whole decoder input.
      if (size !== undefined && (metadata.latentSize === undefined || size === metadata.latentSize)) {
        codeOutput = { name, size };
        break;
      }
    }
  }
  const latentSize = latentInput?.size ?? codeOutput?.size ?? metadata.latentSize;
  const prior = metadata.prior ?? options.priorOf?.(metadata.family);
  const categorical = metadata.categorical;
  const whyNoSample = sampleBlocker(metadata.part, latentInput, prior, categorical);
  const imageShape = metadata.imageShape ?? imageShapeOf(decodes ? imageOutputSpec : (imageInputSpec ?? imageOutputSpec));
  const classScores = classScoresOf(metadata);
  return {
    metadata,
    family: metadata.family,
    part: metadata.part,
    valueRange: metadata.valueRange,
    imageShape,
    imageInput: imageInputSpec?.name,
    imageOutput: imageOutputSpec?.name,
    latentInput,
    codeOutput,
    latentSize,
    label,
    numClasses: label?.numClasses ?? metadata.numClasses ?? classScores?.numClasses,
    classScores,
    prior,
    categorical,
    features: featuresOf(metadata, imageInputSpec, imageShape, where),
    canSample: whyNoSample === undefined,
    whyNoSample,
  };
}

function sampleBlocker(part: ArtifactPart, latentInput: ArtifactInfo['latentInput'], prior: SamplePrior | undefined, categorical: CategoricalLayout | undefined): string | undefined {
  if (!DECODING_PARTS.includes(part)) return `a ${part} does not decode latent codes`;
  if (!latentInput) return 'the decoder has no [batch, latentSize] code input';
  if (!prior) return 'the artifact names no prior (aekit.prior) to draw codes from';
  if (!DRAWABLE_PRIORS.includes(prior)) return `its prior '${prior}' is fitted to training codes, which the artifact does not carry`;
  if (prior === 'standard-normal') return undefined;
  if (!categorical) return `its prior '${prior}' needs the categorical layout (aekit.categorical), which this artifact lacks`;
  const gaussian = latentInput.size - categorical.variables * categorical.classes;
  if (gaussian < 0 || (prior === 'uniform-categorical') !== (gaussian === 0)) {
    return `the categorical layout ${categorical.variables}x${categorical.classes} does not fit the decoder input (${latentInput.size} values) under prior '${prior}'`;
  }
  return undefined;
}

/**
 * The facts of a model as an API shows them: the server's model list (`ServedModel`) and the
 * browser module's `Decoder` both carry exactly these, derived by {@link summarizeModel}.
 */
export interface ModelSummary {
  family: string;
  latentSize: number;
  /** True when the model takes a class label. */
  conditional: boolean;
  /** Classes of a conditional model (labels are 0 .. numClasses - 1). */
  numClasses?: number;
  imageShape: ImageShape;
  valueRange: ValueRange;
  /** True when codes can be drawn from the prior and decoded (see {@link ArtifactInfo.canSample}). */
  canSample: boolean;
}

/**
 * The {@link ModelSummary} of an encoder or decoder.
 * @throws AekitError BAD_DATA when the artifact has no latent size or no fixed image shape.
 */
export function summarizeModel(info: ArtifactInfo, where?: string): ModelSummary {
  if (info.latentSize === undefined) throw new AekitError('BAD_DATA', 'no latent size: expected aekit.latentSize or a [batch, n] code tensor', { where });
  if (!info.imageShape) throw new AekitError('BAD_DATA', 'no fixed image shape: expected aekit.imageShape or an NCHW image tensor', { where });
  return {
    family: info.family,
    latentSize: info.latentSize,
    conditional: info.label !== undefined,
    ...(info.label ? { numClasses: info.label.numClasses } : {}),
    imageShape: info.imageShape,
    valueRange: info.valueRange,
    canSample: info.canSample,
  };
}

/**
 * The facts of a classifier as an API shows them, beside the {@link ModelSummary} of encoders and
 * decoders: images in, class scores out, and no latent code (so no `latentSize`).
 */
export interface ClassifierSummary {
  family: string;
  /** Always false: a classifier takes no class label, it gives one. */
  conditional: false;
  /** Classes it scores (labels are 0 .. numClasses - 1). */
  numClasses: number;
  imageShape: ImageShape;
  valueRange: ValueRange;
  /** Always false: there is no code to draw. */
  canSample: false;
}

/**
 * The {@link ClassifierSummary} of a classifier.
 * @throws AekitError BAD_DATA when the artifact has no image input, no fixed image shape, no class
 *   scores ({@link ArtifactInfo.classScores}) or a label input.
 */
export function summarizeClassifier(info: ArtifactInfo, where?: string): ClassifierSummary {
  if (!info.imageInput || !info.imageShape) throw new AekitError('BAD_DATA', 'a classifier needs an NCHW image input of a fixed shape', { where });
  if (info.label) throw new AekitError('BAD_DATA', `a classifier with a label input ('${info.label.input}') is not supported`, { where });
  if (!info.classScores) {
    const classes = info.metadata.numClasses === undefined ? 'numClasses' : String(info.metadata.numClasses);
    const outputs = info.metadata.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
    throw new AekitError('BAD_DATA', `no class scores: expected an output '${CLASSIFIER_LOGITS_OUTPUT}' [batch, ${classes}], or a first output with outputActivation 'softmax'; its outputs: ${outputs}`, { where });
  }
  return { family: info.family, conditional: false, numClasses: info.classScores.numClasses, imageShape: info.imageShape, valueRange: info.valueRange, canSample: false };
}
