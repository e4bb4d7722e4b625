/**
 * A loaded model seen through its families' conventions: which encoder output is the code, how the
 * decoder is fed (z, plus a one-hot label for conditional models), and how samples are drawn.
 * Parts and shapes are read from the artifacts' description (`OnnxModel.info`) and output names; what a family supports (its
 * metrics and its prior) from its registry entry (`FamilyDefinition.evaluation`).
 */
import { AekitError } from '../core/errors';
import type { ValueRange } from '../data/types';
import { topClasses } from '../artifact/class-scores';
import type { CategoricalLayout } from '../artifact/metadata';
import { familyNames, getFamily } from '../models';
import type { FamilyEvaluation } from '../models/types';
import { EVAL_PRIORS, categoricalPrior, fittedGaussian } from './priors';
import type { LatentPrior, PriorKind } from './priors';
import type { FloatTensor, OnnxModel, RowProgress } from './onnx-session';
import type { LoadedTarget } from './target';
import { toArtifactImages } from './images';
import type { ImageShape } from './images';

/** A family's evaluation entry from the registry, or undefined for a family this aekit does not know. */
export function familyEvaluation(family: string): FamilyEvaluation | undefined {
  return familyNames().includes(family) ? getFamily(family).evaluation : undefined;
}

/** The categorical layout in a run's model config: where artifacts from before `aekit.categorical` keep it. */
function categoricalLayoutOf(model: Record<string, unknown> | undefined): CategoricalLayout | undefined {
  const c = model?.categorical as { variables?: unknown; classes?: unknown } | undefined;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  return c && ok(c.variables) && ok(c.classes) ? { variables: c.variables, classes: c.classes } : undefined;
}

/** Encoder outputs for a batch of images. */
export interface Encoded {
  /** The features a latent classifier or scatter plot uses: the code when there is one, else every NC output. */
  features: Float32Array;
  featureSize: number;
  /** The decoder input for a reconstruction (mu, the code, or [mu | one-hot arg-max] of a categorical code), when the family has one. */
  code?: Float32Array;
  mu?: Float32Array;
  logvar?: Float32Array;
}

/** Direction of an unpaired translation model: generatorAB maps domain A to B, generatorBA back. */
export type TranslationDirection = 'AB' | 'BA';

/** One-hot rows for class indices. */
export function oneHot(labels: Int32Array, numClasses: number): Float32Array {
  const out = new Float32Array(labels.length * numClasses);
  labels.forEach((label, i) => {
    if (label >= 0 && label < numClasses) out[i * numClasses + label] = 1;
  });
  return out;
}

/**
 * What a conditional encoder is given when codes must not know the image's class (latent
 * classifiers, the latent scatter): the mean of the training split's one-hot labels, i.e. the class
 * frequencies, the same row for every image. It is the label input's expected value, so the
 * encoder sees an input of the kind it was trained on; zeros would be a row it never saw.
 */
export const LABEL_FREE_ENCODER_INPUT = 'the mean of the training labels\' one-hot rows (class frequencies), the same for every image';

/** {@link LABEL_FREE_ENCODER_INPUT}: the mean one-hot row of `labels` (-1 and out-of-range labels ignored). */
export function labelFreeRow(labels: Int32Array, numClasses: number): Float32Array {
  const counts = new Float64Array(numClasses);
  let total = 0;
  for (const label of labels) {
    if (label >= 0 && label < numClasses) {
      counts[label]++;
      total++;
    }
  }
  return Float32Array.from(counts, (c) => (total > 0 ? c / total : 1 / numClasses));
}

/** The model's parts with the conventions of its family. */
export class ModelIo {
  readonly encoder?: OnnxModel;
  /** The decoder, or the generator of families without an encoder. */
  readonly generator?: OnnxModel;
  /** A classifier artifact (evaluated for its accuracy). */
  readonly classifier?: OnnxModel;
  /** The two generators of an unpaired translation model (cyclegan): domain A -> B and B -> A. */
  readonly translators?: Readonly<Record<TranslationDirection, OnnxModel>>;
  readonly family: string;
  /** The family's registry entry (undefined for an unknown family: then only the artifacts' structure decides). */
  readonly evaluation?: FamilyEvaluation;
  /** The categorical layout of the run's model config, when it has one. */
  readonly categorical?: CategoricalLayout;

  constructor(
    target: LoadedTarget,
    /** The image shape the data (and, checked elsewhere, every artifact) has. */
    readonly shape: ImageShape,
  ) {
    this.encoder = target.parts.encoder;
    this.generator = target.parts.decoder ?? target.parts.generator;
    this.classifier = target.parts.classifier;
    const { generatorAB, generatorBA } = target.parts;
    if (generatorAB && generatorBA) this.translators = { AB: generatorAB, BA: generatorBA };
    this.family = target.family;
    this.evaluation = familyEvaluation(target.family);
    // Artifacts exported since aekit 0.1 carry the layout; older ones take it from the run's config.
    this.categorical = (this.generator ?? this.encoder)?.info.categorical ?? categoricalLayoutOf(target.runModel);
  }

  /** Value range of the artifacts (the first part's; eval checks they agree). */
  get valueRange(): ValueRange {
    return (this.encoder ?? this.generator ?? this.classifier ?? this.translators?.AB)!.info.valueRange;
  }

  /**
   * Translate images NCHW in the translator's value range (as it returns them, so that a cycle
   * A -> B -> A chains two calls without converting) with the generator of `direction`.
   * @throws AekitError BAD_ARGUMENT when the model has no translators.
   */
  async translate(direction: TranslationDirection, nchw: Float32Array, count: number, progress?: RowProgress): Promise<Float32Array> {
    const model = this.translators?.[direction];
    if (!model) throw new AekitError('BAD_ARGUMENT', 'the model has no generatorAB and generatorBA artifacts', { where: 'translate' });
    const { height, width, channels } = this.shape;
    const name = this.imageOutput(model);
    return (await model.run({ [this.imageInputName(model)]: { data: nchw, dims: [count, channels, height, width] } }, [name], progress))[name].data;
  }

  /** Width of the one-hot label input of a conditional model (0 when unconditional). */
  labelWidth(model: OnnxModel | undefined): number {
    const label = model?.info.label;
    if (!model || !label) return 0;
    if (label.encoding !== 'one-hot') {
      throw new AekitError('BAD_DATA', `label encoding '${label.encoding}' is not supported by eval (expected 'one-hot')`, {
        where: `${model.path}: aekit.labelInput.encoding`,
      });
    }
    return label.numClasses;
  }

  /** Name and width of the generator's code input (the input that is not the label). */
  latentInput(): { name: string; size: number } {
    const g = this.requireGenerator('latentInput');
    if (!g.info.latentInput) throw new AekitError('BAD_DATA', 'expected a code input [batch, latentSize]', { where: `${g.path}: aekit.inputs` });
    return g.info.latentInput;
  }

  /** Name of the image output of a part (its first NCHW output). */
  imageOutput(model: OnnxModel): string {
    if (!model.info.imageOutput) throw new AekitError('BAD_DATA', 'expected an image output (layout NCHW)', { where: `${model.path}: aekit.outputs` });
    return model.info.imageOutput;
  }

  /** The encoder output that is also the decoder's input, if the family has one. */
  codeOutputName(): string | undefined {
    const code = this.encoder?.info.codeOutput;
    if (!code || !this.generator) return code?.name;
    return code.size === this.latentInput().size ? code.name : undefined;
  }

  /**
   * A categorical code as the decoder takes it: [mu | one-hot arg-max of each variable's logits]
   * (joint-vae) or the one-hot part alone (gumbel-vae), the families' own `encode`. Needs the
   * layout from the run config and sizes that add up to the decoder input.
   */
  categoricalCode(): { continuous?: string; logits: string } | undefined {
    const layout = this.categorical;
    if (!this.encoder || !this.generator || !layout || !this.encoder.hasOutput('logits')) return undefined;
    const width = layout.variables * layout.classes;
    if (this.encoder.output('logits').shape[1] !== width) return undefined;
    const mu = this.encoder.hasOutput('mu') ? this.encoder.output('mu').shape[1] : 0;
    if (typeof mu !== 'number' || mu + width !== this.latentInput().size) return undefined;
    return { ...(mu > 0 ? { continuous: 'mu' } : {}), logits: 'logits' };
  }

  /** True when images can be encoded and decoded back (reconstructions, SSIM, PSNR, ELBO). */
  canReconstruct(): boolean {
    return this.encoder !== undefined && this.generator !== undefined && (this.codeOutputName() !== undefined || this.categoricalCode() !== undefined);
  }

  /** True for a Gaussian encoder (outputs exactly mu and logvar) whose mu feeds the decoder. */
  hasGaussianPosterior(): boolean {
    const names = this.encoder?.metadata.outputs.map((o) => o.name).sort().join(',');
    return names === 'logvar,mu' && this.canReconstruct();
  }

  /** The prior samples are drawn from, or undefined when eval cannot draw samples for this model. */
  priorKind(): PriorKind | undefined {
    const kind = this.generator?.info.prior;
    if (!this.generator || !kind || !(EVAL_PRIORS as readonly string[]).includes(kind)) return undefined;
    if (kind === 'fitted-gaussian' && !this.canReconstruct()) return undefined;
    if (kind === 'uniform-categorical' || kind === 'gaussian-and-categorical') {
      const width = this.categorical ? this.categorical.variables * this.categorical.classes : 0;
      const gaussian = this.latentInput().size - width;
      if (!this.categorical || gaussian < 0 || (kind === 'uniform-categorical') !== (gaussian === 0)) return undefined;
    }
    return kind as PriorKind;
  }

  /** Why {@link priorKind} is undefined (for error messages and reports). */
  whyNoPrior(): string {
    const kind = this.generator?.info.prior;
    if (!this.generator) return 'the model has no decoder or generator artifact';
    if (!this.evaluation && !kind) return `family '${this.family}' is not registered in this aekit and its artifact names no prior`;
    if (!kind) return `family '${this.family}' has no prior to sample from`;
    if (kind === 'fitted-gaussian') return 'a fitted Gaussian prior needs an encoder whose code feeds the decoder';
    if (!this.categorical) return `family '${this.family}''s ${kind} prior needs its layout (model.categorical) from the run's config.json, and the target is not in a run folder`;
    return `the categorical layout ${this.categorical.variables}x${this.categorical.classes} of the run config does not fit the decoder input (${this.latentInput().size} values)`;
  }

  /**
   * Encode images (NHWC in [0, 1]). Conditional encoders need `labels`: each image's class
   * (Int32Array), or one label row fed with every image (Float32Array of the label width, e.g.
   * {@link labelFreeRow}'s, so that no image's own class reaches its code).
   * @throws AekitError BAD_ARGUMENT when the model has no encoder or labels are missing.
   */
  async encode(unitNhwc: Float32Array, count: number, labels?: Int32Array | Float32Array, progress?: RowProgress): Promise<Encoded> {
    const encoder = this.encoder;
    if (!encoder) throw new AekitError('BAD_ARGUMENT', 'the model has no encoder artifact', { where: 'encode' });
    const { height, width, channels } = this.shape;
    const feeds: Record<string, FloatTensor> = {
      [this.imageInputName(encoder)]: { data: toArtifactImages(unitNhwc, count, this.shape, encoder.info.valueRange), dims: [count, channels, height, width] },
    };
    this.addLabels(feeds, encoder, count, labels);
    const out = await encoder.run(feeds, undefined, progress);
    const codeName = this.codeOutputName();
    const code = codeName ? out[codeName].data : this.joinCategorical(out, count);
    if (code) return { features: code, featureSize: code.length / count, code, mu: out.mu?.data, logvar: out.logvar?.data };
    const featureNames = ['mu', 'code'].filter((n) => out[n]).slice(0, 1);
    const names = featureNames.length > 0 ? featureNames : encoder.metadata.outputs.filter((o) => o.layout === 'NC').map((o) => o.name);
    const featureSize = names.reduce((sum, n) => sum + out[n].data.length / count, 0);
    let features: Float32Array;
    if (names.length === 1) {
      features = out[names[0]].data;
    } else {
      features = new Float32Array(count * featureSize);
      let offset = 0;
      for (const n of names) {
        const size = out[n].data.length / count;
        for (let r = 0; r < count; r++) features.set(out[n].data.subarray(r * size, (r + 1) * size), r * featureSize + offset);
        offset += size;
      }
    }
    return { features, featureSize, mu: out.mu?.data, logvar: out.logvar?.data };
  }

  /** [mu | one-hot arg-max per variable] rows from the encoder outputs, when the model has a categorical code. */
  private joinCategorical(out: Record<string, FloatTensor>, count: number): Float32Array | undefined {
    const names = this.categoricalCode();
    if (!names) return undefined;
    const { variables, classes } = this.categorical!;
    const width = variables * classes;
    const mu = names.continuous ? out[names.continuous].data : new Float32Array(0);
    const m = mu.length / count;
    const logits = out[names.logits].data;
    const code = new Float32Array(count * (m + width));
    for (let r = 0; r < count; r++) {
      const row = r * (m + width);
      code.set(mu.subarray(r * m, (r + 1) * m), row);
      for (let v = 0; v < variables; v++) {
        const at = r * width + v * classes;
        let best = 0;
        for (let k = 1; k < classes; k++) if (logits[at + k] > logits[at + best]) best = k;
        code[row + m + v * classes + best] = 1;
      }
    }
    return code;
  }

  /**
   * Decode codes (count×latentSize) to images NCHW in the model's value range. Conditional
   * decoders take one-hot (or soft) label rows, count×numClasses.
   */
  async decode(z: Float32Array, count: number, labelRows?: Float32Array, progress?: RowProgress): Promise<Float32Array> {
    const g = this.requireGenerator('decode');
    const input = this.latentInput();
    const feeds: Record<string, FloatTensor> = { [input.name]: { data: z, dims: [count, input.size] } };
    const width = this.labelWidth(g);
    if (width > 0) {
      if (!labelRows) throw new AekitError('BAD_ARGUMENT', `the conditional decoder needs a one-hot label input of width ${width}`, { where: g.path });
      feeds[g.info.label!.input] = { data: labelRows, dims: [count, width] };
    }
    const name = this.imageOutput(g);
    return (await g.run(feeds, [name], progress))[name].data;
  }

  /**
   * The prior to draw samples from; a fitted Gaussian needs the codes of training images.
   * @throws AekitError BAD_ARGUMENT when the model cannot be sampled.
   */
  prior(trainCodes?: { codes: Float32Array; count: number }): LatentPrior {
    const kind = this.priorKind();
    const size = this.latentInput().size;
    if (kind === 'standard-normal') return { kind, sample: (count, rng) => rng.normalArray(count * size) };
    if (kind === 'fitted-gaussian') {
      if (!trainCodes) throw new AekitError('BAD_ARGUMENT', 'a fitted Gaussian prior needs the codes of training images', { where: 'prior' });
      return fittedGaussian(trainCodes.codes, trainCodes.count, size);
    }
    if (kind === 'uniform-categorical' || kind === 'gaussian-and-categorical') return categoricalPrior(kind, this.categorical!, size);
    throw new AekitError('BAD_ARGUMENT', `cannot draw samples: ${this.whyNoPrior()}`, { where: 'prior' });
  }

  /**
   * Top-1 predictions of the classifier for images (NHWC in [0, 1]): the arg-max of its class scores
   * (`ArtifactInfo.classScores`).
   * @throws AekitError BAD_ARGUMENT when the model has no classifier artifact, BAD_DATA when it has no class scores.
   */
  async classify(unitNhwc: Float32Array, count: number, progress?: RowProgress): Promise<Int32Array> {
    const classifier = this.classifier;
    if (!classifier) throw new AekitError('BAD_ARGUMENT', 'the model has no classifier artifact', { where: 'classify' });
    const scores = classifier.info.classScores;
    if (!scores) throw new AekitError('BAD_DATA', 'expected a class-score output (logits)', { where: `${classifier.path}: aekit.outputs` });
    const { height, width, channels } = this.shape;
    const image = { data: toArtifactImages(unitNhwc, count, this.shape, classifier.info.valueRange), dims: [count, channels, height, width] };
    const values = (await classifier.run({ [this.imageInputName(classifier)]: image }, [scores.output], progress))[scores.output].data;
    return topClasses(values, scores.numClasses);
  }

  private imageInputName(model: OnnxModel): string {
    if (!model.info.imageInput) throw new AekitError('BAD_DATA', 'expected an image input (layout NCHW)', { where: `${model.path}: aekit.inputs` });
    return model.info.imageInput;
  }

  private addLabels(feeds: Record<string, FloatTensor>, model: OnnxModel, count: number, labels?: Int32Array | Float32Array): void {
    const width = this.labelWidth(model);
    if (width === 0) return;
    if (!labels) throw new AekitError('BAD_ARGUMENT', 'the conditional encoder needs labels', { where: model.path });
    if (labels instanceof Float32Array) {
      if (labels.length !== width) throw new AekitError('BAD_ARGUMENT', `expected one label row of ${width} values, found ${labels.length}`, { where: model.path });
      const rows = new Float32Array(count * width);
      for (let r = 0; r < count; r++) rows.set(labels, r * width);
      feeds[model.info.label!.input] = { data: rows, dims: [count, width] };
      return;
    }
    feeds[model.info.label!.input] = { data: oneHot(labels.subarray(0, count), width), dims: [count, width] };
  }

  private requireGenerator(what: string): OnnxModel {
    if (!this.generator) throw new AekitError('BAD_ARGUMENT', 'the model has no decoder or generator artifact', { where: what });
    return this.generator;
  }
}
