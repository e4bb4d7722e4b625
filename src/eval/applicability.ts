/**
 * Which of eval's metrics apply to a model: the family's registry entry must list the metric
 * (families this aekit does not know are judged by their artifacts alone), and the artifacts must
 * have what it needs. What the data adds (FID's classifier shape, translation's domain B) is each
 * metric runner's `dataProblem` (src/eval/runners). KID goes with FID: the same images, the same features.
 */
import { CLASSIFIER_LOGITS_OUTPUT } from '../artifact/info';
import type { ModelIo } from './model-io';

/** The metrics `aekit eval` computes, in report order. */
export const EVAL_METRICS = ['fid', 'kid', 'ssim', 'psnr', 'elbo', 'latent', 'accuracy', 'translation'] as const;
/** See {@link EVAL_METRICS}. */
export type EvalMetric = (typeof EVAL_METRICS)[number];

/** The family's metric (FamilyDefinition.evaluation.metrics) behind each of eval's metrics. */
const FAMILY_METRIC: Readonly<Record<EvalMetric, string>> = Object.freeze({
  fid: 'fid',
  // KID scores the same images with the same features: where a family has FID, it has KID.
  kid: 'fid',
  ssim: 'reconstruction',
  psnr: 'reconstruction',
  elbo: 'elbo',
  latent: 'latent-classifiers',
  accuracy: 'accuracy',
  translation: 'translation',
});

/**
 * Why each metric does not apply to a model (undefined when it does): the family's registry entry
 * must list it (families this aekit does not know are judged by their artifacts alone), and the
 * artifacts must have what it needs. `labelled`: true when the data has labels of at least two
 * classes; false, or why not (e.g. "cats has one class"), otherwise.
 */
export function metricApplicability(io: ModelIo, labelled: boolean | string): Record<EvalMetric, string | undefined> {
  const noLabels = labelled === true ? undefined : labelled === false ? 'the dataset has no labels' : labelled;
  const canReconstruct = io.canReconstruct();
  const noRecon =
    io.encoder && io.generator
      ? `the encoder's outputs (${io.encoder.metadata.outputs.map((o) => o.name).join(', ')}) hold no code that is the decoder's whole input '${io.latentInput().name}' (${io.latentInput().size} values)`
      : `the model has no encoder/decoder pair to reconstruct images with (parts: ${partNames(io).join(', ')})`;
  const generated = !io.generator
    ? `the model has no decoder or generator artifact (parts: ${partNames(io).join(', ')})`
    : io.priorKind() === undefined && !canReconstruct
      ? `${io.whyNoPrior()}, and it cannot reconstruct images`
      : undefined;
  const structural: Record<EvalMetric, string | undefined> = {
    fid: generated,
    kid: generated,
    ssim: canReconstruct ? undefined : noRecon,
    psnr: canReconstruct ? undefined : noRecon,
    elbo: io.hasGaussianPosterior() ? undefined : 'the model has no Gaussian posterior (an encoder with outputs mu and logvar feeding the decoder)',
    latent: !io.encoder ? 'the model has no encoder artifact' : noLabels,
    accuracy: !io.classifier?.info.classScores
      ? `the model has no classifier artifact with class scores (a '${CLASSIFIER_LOGITS_OUTPUT}' output)`
      : noLabels,
    translation: io.translators ? undefined : `the model has no generatorAB and generatorBA artifacts (parts: ${partNames(io).join(', ')})`,
  };
  const listed = io.evaluation?.metrics as readonly string[] | undefined;
  return Object.fromEntries(
    EVAL_METRICS.map((m) => [m, familySupports(io, m) ? structural[m] : `family '${io.family}' does not support ${FAMILY_METRIC[m]} metrics (its evaluation: ${listed!.join(', ')})`]),
  ) as Record<EvalMetric, string | undefined>;
}

/** True when the family's registry entry lists the metric (or the family is unknown to this aekit). */
export function familySupports(io: ModelIo, metric: EvalMetric): boolean {
  const listed = io.evaluation?.metrics as readonly string[] | undefined;
  return !listed || listed.includes(FAMILY_METRIC[metric]);
}

/** The metrics that apply to a model (what `aekit eval` computes with no metric flag). */
export function applicableMetrics(io: ModelIo, labelled: boolean | string = true): EvalMetric[] {
  const why = metricApplicability(io, labelled);
  return EVAL_METRICS.filter((m) => why[m] === undefined);
}

/** The parts of the model by their artifacts' part names, for messages. */
export function partNames(io: ModelIo): string[] {
  return [io.encoder, io.generator, io.classifier, io.translators?.AB, io.translators?.BA].filter((m) => m !== undefined).map((m) => m.info.part);
}
