/**
 * What the server does, apart from HTTP: decode, sample, encode, reconstruct and classify on parsed
 * inputs through the dynamic batchers, which operations a model offers (and why not), and the
 * model list. Plain typed results; the HTTP layer (routes.ts, replies.ts) turns them into responses.
 */
import { classProbabilities, topClasses } from '../artifact/class-scores';
import { drawLatents } from '../artifact/prior';
import type { ModelSummary } from '../artifact/info';
import type { DynamicBatcher, BatchStats, RowFeeds } from './batcher';
import type { RowsInput, SampleInput } from './codec';
import { firstNonFinite } from './codec';
import { HttpError } from './http-error';
import { SERVED_ROLES } from './models';
import type { ClassifierModel, LatentModel, ServedArtifact, ServedModel, ServedRole } from './models';

/** The operations of the API, in the order `/v1/models` lists them. */
export const OPERATIONS = Object.freeze(['decode', 'sample', 'encode', 'reconstruct', 'classify'] as const);
/** See {@link OPERATIONS}. */
export type Operation = (typeof OPERATIONS)[number];

/** The artifacts an operation runs. */
const OPERATION_NEEDS: Readonly<Record<Operation, readonly ServedRole[]>> = Object.freeze({
  decode: ['decoder'],
  sample: ['decoder'],
  encode: ['encoder'],
  reconstruct: ['encoder', 'decoder'],
  classify: ['classifier'],
});

/** The kind of model each operation runs on (the one that can hold the artifacts it needs). */
const OPERATION_KIND = Object.freeze({
  decode: 'latent',
  sample: 'latent',
  encode: 'latent',
  reconstruct: 'latent',
  classify: 'classifier',
} as const satisfies Record<Operation, ServedModel['kind']>);

/** The model type `operation` runs on: {@link LatentModel} or {@link ClassifierModel}. */
export type OperationModel<Op extends Operation> = Extract<ServedModel, { kind: (typeof OPERATION_KIND)[Op] }>;

function isKind<K extends ServedModel['kind']>(model: ServedModel, kind: K): model is Extract<ServedModel, { kind: K }> {
  return model.kind === kind;
}

/** The artifacts a model has, decoder first. */
export function servedRoles(model: ServedModel): ServedRole[] {
  return SERVED_ROLES.filter((r) => model[r] !== undefined);
}

/**
 * Why `model` cannot do `operation`, or undefined when it can. `/sample` needs a prior the decoder
 * can draw from (`ArtifactInfo.canSample`); `/encode` and `/reconstruct` need an encoder output
 * that is the decoder's whole input (`ArtifactInfo.codeOutput`), which categorical and joint
 * codes (gumbel-vae, joint-vae) do not have.
 */
export function whyUnsupported(model: ServedModel, operation: Operation): string | undefined {
  for (const role of OPERATION_NEEDS[operation]) {
    if (!model[role]) return `model '${model.name}' has no ${role} artifact, which /${operation} needs; it has: ${servedRoles(model).join(', ')}`;
  }
  if (operation === 'sample' && !model.canSample) {
    return `model '${model.name}' (family ${model.family}) cannot be sampled: ${model.decoder?.info.whyNoSample ?? 'no decoder'}; use /decode with your own z`;
  }
  const encoder = model.encoder;
  if ((operation === 'encode' || operation === 'reconstruct') && model.kind === 'latent' && encoder && !encoder.info.codeOutput) {
    const outputs = encoder.metadata.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
    return `model '${model.name}' (family ${model.family}) has no code to /${operation}: its encoder has no output that is the decoder's whole input ('mu' or 'code' of ${model.latentSize} values); its outputs: ${outputs}`;
  }
  return undefined;
}

/** The operations `model` offers. */
export function offeredOperations(model: ServedModel): Operation[] {
  return OPERATIONS.filter((op) => whyUnsupported(model, op) === undefined);
}

/** A model as `/v1/models` lists it. */
export interface ModelListing extends Omit<ModelSummary, 'canSample' | 'latentSize'> {
  name: string;
  /** Width of the latent code; absent for a classifier, which has none. */
  latentSize?: number;
  /** What the model offers (`sample` where `ModelSummary.canSample`). */
  operations: Operation[];
  /** Where to download each artifact, and its size in bytes. */
  artifacts: Partial<Record<ServedRole, { url: string; bytes: number }>>;
  /** Each artifact's aekit metadata. */
  metadata: Partial<Record<ServedRole, ServedArtifact['metadata']>>;
}

/** The listing of one model. */
export function listModel(model: ServedModel): ModelListing {
  const roles = servedRoles(model);
  return {
    name: model.name,
    family: model.family,
    ...(model.kind === 'latent' ? { latentSize: model.latentSize } : {}),
    conditional: model.conditional,
    ...(model.numClasses !== undefined ? { numClasses: model.numClasses } : {}),
    imageShape: model.imageShape,
    valueRange: model.valueRange,
    operations: offeredOperations(model),
    artifacts: Object.fromEntries(roles.map((r) => [r, { url: `/v1/models/${encodeURIComponent(model.name)}/artifacts/${r}.onnx`, bytes: model[r]!.bytes.length }])),
    metadata: Object.fromEntries(roles.map((r) => [r, model[r]!.metadata])),
  };
}

/** Decoded images: `rows` NCHW images in the model's value range, flat. */
export interface ImagesResult {
  model: ServedModel;
  rows: number;
  images: Float32Array;
  /** For `/sample`: the seed and the latents drawn with it. */
  sampled?: { seed: number; z: Float32Array };
}

/** Codes of `rows` images: the encoder's code output, and its log-variance when it has one. */
export interface CodesResult {
  model: LatentModel;
  rows: number;
  z: Float32Array;
  logvar?: Float32Array;
}

/**
 * Classes of `rows` images: each image's probabilities (the softmax of the classifier's logits, or
 * its own probabilities), its most probable class, and the classifier's features when it has them.
 */
export interface ClassesResult {
  model: ClassifierModel;
  rows: number;
  /** `rows` x numClasses. */
  probabilities: Float32Array;
  /** The arg-max of each row of {@link probabilities}. */
  labels: Int32Array;
  /** `rows` x the feature width: the classifier's feature output (`ArtifactInfo.features`). */
  features?: Float32Array;
}

/** The batching counters of one artifact. */
export interface ArtifactStats {
  model: string;
  part: ServedRole;
  stats: BatchStats;
}

/** The models, their batchers and the five operations. */
export class Inference {
  private readonly byName: Map<string, ServedModel>;
  private draining = false;

  constructor(
    readonly models: readonly ServedModel[],
    private readonly batchers: ReadonlyMap<ServedArtifact, DynamicBatcher>,
  ) {
    this.byName = new Map(models.map((m) => [m.name, m]));
  }

  /**
   * The model called `name`.
   * @throws HttpError 404 UNKNOWN_MODEL listing the models.
   */
  model(name: string): ServedModel {
    const model = this.byName.get(name);
    if (!model) throw new HttpError(404, 'UNKNOWN_MODEL', `no model '${name}'; models: ${[...this.byName.keys()].join(', ')}`);
    return model;
  }

  /**
   * `model`, once checked to offer `operation`, as the kind of model the operation runs on.
   * @throws HttpError 404 UNSUPPORTED_OPERATION saying why.
   */
  require<Op extends Operation>(model: ServedModel, operation: Op): OperationModel<Op> {
    const why = whyUnsupported(model, operation);
    if (why === undefined && isKind(model, OPERATION_KIND[operation])) return model;
    throw new HttpError(404, 'UNSUPPORTED_OPERATION', why ?? `model '${model.name}' is a ${model.kind} model; /${operation} runs on ${OPERATION_KIND[operation]} models`);
  }

  /**
   * Latents -> images.
   * @throws HttpError 422 OUTPUT_NOT_FINITE naming the latent row the decoder overflowed on.
   */
  async decode(model: LatentModel, input: RowsInput): Promise<ImagesResult> {
    this.require(model, 'decode');
    const images = await this.runDecoder(model, input.data, input.rows, input.labels);
    checkFinite(images, input.rows, (row, value) => {
      const size = input.data.length / input.rows;
      const largest = input.data.subarray(row * size, (row + 1) * size).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      return outputNotFinite(model, `z[${row}]`, `decoded this row to non-finite values (${value}): its latent values are too large for the decoder (largest magnitude ${largest.toPrecision(3)}); latents of a trained model lie within a few units of 0`);
    });
    return { model, rows: input.rows, images };
  }

  /**
   * Images from `input.rows` latents drawn from the decoder's prior with `input.seed`.
   * @throws HttpError 500 when the decoder gives non-finite values on its own prior (a broken model, not a client mistake).
   */
  async sample(model: LatentModel, input: SampleInput): Promise<ImagesResult> {
    this.require(model, 'sample');
    const z = drawLatents(model.decoder!.info, input.rows, input.seed);
    const images = await this.runDecoder(model, z, input.rows, input.labels);
    checkFinite(images, input.rows, (row, value) => {
      const error = new HttpError(500, 'INTERNAL', `model '${model.name}' decoded sample ${row} (seed ${input.seed}) to non-finite values (${value}): the model fails on latents drawn from its own prior`);
      error.report = error.message;
      return error;
    });
    return { model, rows: input.rows, images, sampled: { seed: input.seed, z } };
  }

  /**
   * Images -> codes.
   * @throws HttpError 422 OUTPUT_NOT_FINITE naming the image the encoder overflowed on.
   */
  async encode(model: LatentModel, input: RowsInput): Promise<CodesResult> {
    this.require(model, 'encode');
    return { model, rows: input.rows, ...(await this.encodeChecked(model, input)) };
  }

  /**
   * Images -> codes -> images.
   * @throws HttpError 422 OUTPUT_NOT_FINITE naming the image the encoder or decoder overflowed on.
   */
  async reconstruct(model: LatentModel, input: RowsInput): Promise<ImagesResult> {
    this.require(model, 'reconstruct');
    const codes = await this.encodeChecked(model, input);
    const images = await this.runDecoder(model, codes.z, input.rows, input.labels);
    checkFinite(images, input.rows, (row, value) => outputNotFinite(model, `images[${row}]`, `decoded the code of this image to non-finite values (${value})`));
    return { model, rows: input.rows, images };
  }

  /**
   * Images -> class probabilities, labels and features.
   * @throws HttpError 422 OUTPUT_NOT_FINITE naming the image the classifier overflowed on.
   */
  async classify(model: ClassifierModel, input: RowsInput): Promise<ClassesResult> {
    this.require(model, 'classify');
    const { classifier } = model;
    const scores = classifier.info.classScores!; // checked at start-up (summarizeClassifier)
    const out = await this.run(classifier, { [classifier.mainInput]: input.data }, input.rows);
    const raw = out[scores.output];
    checkFinite(raw, input.rows, (row, value) => outputNotFinite(model, `images[${row}]`, `scored this image's classes with non-finite values (${value})`));
    const probabilities = classProbabilities(scores, raw);
    const features = classifier.info.features ? out[classifier.info.features.output] : undefined;
    return { model, rows: input.rows, probabilities, labels: topClasses(probabilities, scores.numClasses), ...(features ? { features } : {}) };
  }

  /** Batching counters per artifact, models in order, decoder first. */
  stats(): ArtifactStats[] {
    return this.models.flatMap((model) => servedRoles(model).map((part) => ({ model: model.name, part, stats: { ...this.batchers.get(model[part]!)!.stats } })));
  }

  /** From now on queued rows run at once (the server is shutting down). */
  drain(): void {
    this.draining = true;
    for (const batcher of this.batchers.values()) batcher.flush();
  }

  /**
   * Run one artifact on `rows` rows of every input through its dynamic batcher (shared with the
   * operations above, so v2 `/infer` requests merge with `/decode` ones); resolves with this
   * request's rows of every output.
   */
  run(artifact: ServedArtifact, feeds: RowFeeds, rows: number): Promise<RowFeeds> {
    const batcher = this.batchers.get(artifact)!;
    const pending = batcher.submit(feeds, rows);
    if (this.draining) batcher.flush();
    return pending;
  }

  private async runDecoder(model: LatentModel, z: Float32Array, rows: number, labels?: Float32Array): Promise<Float32Array> {
    const decoder = model.decoder!;
    const feeds: RowFeeds = { [decoder.mainInput]: z };
    if (decoder.labelInput) feeds[decoder.labelInput] = labels!;
    return (await this.run(decoder, feeds, rows))[decoder.info.imageOutput!];
  }

  private async encodeChecked(model: LatentModel, input: RowsInput): Promise<{ z: Float32Array; logvar?: Float32Array }> {
    const encoder = model.encoder!;
    const feeds: RowFeeds = { [encoder.mainInput]: input.data };
    if (encoder.labelInput) feeds[encoder.labelInput] = input.labels!;
    const out = await this.run(encoder, feeds, input.rows);
    const z = out[encoder.info.codeOutput!.name];
    checkFinite(z, input.rows, (row, value) => outputNotFinite(model, `images[${row}]`, `encoded this image to a non-finite code (${value})`));
    return { z, logvar: out.logvar };
  }
}

/** `out` (`rows` rows of equal size) when every value is finite (JSON cannot carry the others). */
function checkFinite(out: Float32Array, rows: number, fault: (row: number, value: number) => HttpError): void {
  const bad = firstNonFinite(out);
  if (bad >= 0) throw fault(Math.floor(bad / (out.length / rows)), out[bad]);
}

/**
 * 422 for an input row the model overflowed on: the request is well formed, but this row cannot be
 * answered. Logged (rate-limited) too, since a model that overflows may also be a model problem.
 */
function outputNotFinite(model: ServedModel, where: string, what: string): HttpError {
  const error = new HttpError(422, 'OUTPUT_NOT_FINITE', `${where}: model '${model.name}' ${what}`, where);
  error.report = `model '${model.name}' gave non-finite outputs for a client's ${where} (answered 422): ${what}`;
  return error;
}
