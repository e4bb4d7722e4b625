/**
 * A feature network for FID and KID: any ONNX file that maps images to feature vectors, with the
 * preprocessing it expects. aekit artifacts declare it (`aekit.features`, or an aekit classifier's
 * `features` output); a plain ONNX file (pytorch-fid's InceptionV3 exported by PyTorch) is
 * described by {@link FeatureNetworkOptions.preprocess}, from the CLI's `--features-*` flags.
 */
import { readFileSync } from 'node:fs';
import type { onnx } from 'onnx-proto';
import { AekitError } from '../../core/errors';
import { decodeModel, rawMetadataOf, artifactInfo } from '../../artifact/onnx-io';
import { validateMetadata } from '../../artifact/metadata';
import type { FeatureExtraction } from '../../artifact/metadata';
import { openOrtSession } from '../../artifact/runtime';
import type { OrtSessionHandle, OrtSessionRuntime } from '../../artifact/runtime';
import type { ValueRange } from '../../data/types';
import { sha256Bytes } from '../cache';
import { convertRange, describeShape, nhwcToNchw } from '../images';
import type { ImageShape } from '../images';
import { DEFAULT_EVAL_BATCH, DEFAULT_EVAL_RUNTIME } from '../onnx-session';
import type { OnnxModelOptions, RowProgress } from '../onnx-session';
import { fedSize, inputProblem, prepareImages } from './preprocess';
import type { FeatureInput } from './preprocess';
import { shippedByFile } from './shipped';

/**
 * Input values per `session.run` call of a feature network (unless a batch size is given): 4M
 * floats (16 MB) is 1000 MNIST images but 15 Inception inputs of 299x299x3, whose activations
 * inside the network are some 30 times the input.
 */
export const FEATURE_BATCH_VALUES = 4 * 1024 * 1024;

/** Options of {@link FeatureNetwork.load}. */
export interface FeatureNetworkOptions extends OnnxModelOptions {
  /**
   * The preprocessing, field by field: required for a plain ONNX file (at least `range`; the
   * rest defaults to its only input and output, its fixed input size and a bilinear resize to it,
   * and gray -> RGB replication), and overriding an aekit artifact's declaration.
   */
  preprocess?: Partial<FeatureExtraction>;
}

/** What {@link FeatureNetwork.inspect} finds in a file. */
export interface FeatureNetworkDescription {
  bytes: Uint8Array;
  sha256: string;
  featureSize: number;
  /** The resolved preprocessing (input and output named). */
  extraction: FeatureExtraction;
  channels: number;
  /** True when the file carries aekit metadata. */
  declared: boolean;
}

/** A tensor of a plain ONNX graph: its name and dimensions (strings for symbolic ones). */
interface GraphTensor {
  name: string;
  dims: (number | string)[];
}

/** The graph's inputs (without initializers, which older files list too) and outputs. */
function graphTensors(bytes: Uint8Array, where: string): { inputs: GraphTensor[]; outputs: GraphTensor[]; metadata: Record<string, unknown> } {
  const model = decodeModel(bytes, where);
  const graph = model.graph!;
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const tensor = (v: onnx.IValueInfoProto): GraphTensor => ({
    name: v.name ?? '',
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : (d.dimParam ?? '?'))),
  });
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? ''));
  return { inputs: inputs.map(tensor), outputs: (graph.output ?? []).map(tensor), metadata: rawMetadataOf(model, where) };
}

/** The one element of `list`, or the one named `name`; an error naming the choices otherwise. */
function pick(list: GraphTensor[], name: string | undefined, kind: string, flag: string, where: string): GraphTensor {
  if (name !== undefined) {
    const found = list.find((t) => t.name === name);
    if (!found) throw new AekitError('BAD_ARGUMENT', `expected an ${kind} named '${name}', found: ${list.map((t) => t.name).join(', ')}`, { where: `${where}: ${flag}` });
    return found;
  }
  if (list.length !== 1) {
    throw new AekitError('BAD_ARGUMENT', `the network has ${list.length} ${kind}s (${list.map((t) => t.name).join(', ')}); name the one to use with ${flag}`, { where });
  }
  return list[0];
}

/** Where a feature network's time went, summed over its calls (for benchmarks). */
export interface FeatureTimings {
  /** Layout and range conversion, gray -> RGB replication and the resize. */
  preprocessMs: number;
  /** onnxruntime's `run` calls. */
  inferenceMs: number;
}

/** A loaded feature network with its resolved preprocessing. */
export class FeatureNetwork {
  /** Time spent so far in {@link features}, by step. */
  readonly timings: FeatureTimings = { preprocessMs: 0, inferenceMs: 0 };

  private constructor(
    /** The `.onnx` file. */
    readonly path: string,
    /** Hex SHA-256 of the file: with {@link extraction}, the cache key of statistics computed with it. */
    readonly sha256: string,
    /** Length of a feature vector. */
    readonly featureSize: number,
    /** The preprocessing and output, resolved (declared or given, defaults filled in). */
    readonly extraction: FeatureExtraction,
    /** Channels the network takes. */
    readonly channels: number,
    /** True when the file carries aekit metadata (the preprocessing was declared, not given by flags). */
    readonly declared: boolean,
    private readonly session: OrtSessionHandle,
    /** Rows per run call; undefined: as many as {@link FEATURE_BATCH_VALUES} allows. */
    private readonly batchSize: number | undefined,
  ) {}

  /**
   * Read a feature network file and resolve its preprocessing without opening a session: an aekit
   * artifact with `aekit.features` (or an aekit classifier), or a plain ONNX file described by
   * `preprocess` (the CLI's `--features-*` flags), whose fields also override a declaration.
   * @throws AekitError FILE_NOT_FOUND; BAD_DATA for a file that is not an ONNX model or whose
   *   metadata contradicts itself; BAD_ARGUMENT naming the flag when the preprocessing is incomplete.
   */
  static inspect(file: string, preprocess: Partial<FeatureExtraction> = {}): FeatureNetworkDescription {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      const shipped = shippedByFile(file);
      const hint = shipped ? `: ${shipped.name} is not installed (${shipped.recipe} trains it); pass another network with --features` : '';
      throw new AekitError('FILE_NOT_FOUND', `FID classifier not found (the feature network of FID and KID; ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})${hint}`, { where: file, cause: error });
    }
    const { inputs, outputs, metadata } = graphTensors(bytes, file);
    let extraction: FeatureExtraction;
    const declared = Object.keys(metadata).length > 0;
    if (declared) {
      const info = artifactInfo(validateMetadata(metadata, file, 'BAD_DATA'), file);
      if (!info.features) {
        throw new AekitError('BAD_DATA', `the ${info.family} ${info.part} artifact declares no feature output (aekit.features) and is not an aekit classifier with a 'features' output`, { where: `${file}: aekit.features` });
      }
      extraction = { ...info.features, ...defined(preprocess) };
    } else {
      if (preprocess.range === undefined) {
        throw new AekitError('BAD_ARGUMENT', "the file has no aekit metadata: say which value range its input takes with --features-range unit|symmetric|byte (pytorch-fid's InceptionV3: symmetric, after its resize)", { where: file });
      }
      const input = pick(inputs, preprocess.input, 'input', '--features-input', file);
      const [, , h, w] = input.dims;
      const fixed = typeof h === 'number' && typeof w === 'number' ? { height: h, width: w } : undefined;
      const size = preprocess.size ?? fixed;
      extraction = {
        output: pick(outputs, preprocess.output, 'output', '--features-output', file).name,
        input: input.name,
        ...(size ? { size } : {}),
        resize: preprocess.resize ?? (fixed ? 'bilinear' : 'graph'),
        range: preprocess.range,
        grayToRgb: preprocess.grayToRgb ?? true,
      };
    }
    const input = pick(inputs, extraction.input, 'input', '--features-input', file);
    const output = pick(outputs, extraction.output, 'output', '--features-output', file);
    if (input.dims.length !== 4) throw new AekitError('BAD_DATA', `expected an NCHW image input, found '${input.name}' with ${input.dims.length} dimensions`, { where: file });
    const channels = input.dims[1];
    if (channels !== 1 && channels !== 3) throw new AekitError('BAD_DATA', `expected an input of 1 or 3 channels, found '${input.name}' [${input.dims.join(', ')}]`, { where: file });
    const featureSize = output.dims.length === 2 ? output.dims[1] : undefined;
    if (typeof featureSize !== 'number') throw new AekitError('BAD_DATA', `expected a [batch, d] feature output, found '${output.name}' [${output.dims.join(', ')}]`, { where: file });
    const [, , inputHeight, inputWidth] = input.dims;
    if (extraction.resize === 'graph' && typeof inputHeight === 'number' && typeof inputWidth === 'number') {
      throw new AekitError('BAD_ARGUMENT', `resize 'graph' feeds images at their own size, but input '${input.name}' takes only ${inputHeight}x${inputWidth}: use --features-resize bilinear (aekit resizes) or none`, { where: file });
    }
    const { size } = extraction;
    if (size && typeof inputHeight === 'number' && typeof inputWidth === 'number' && (size.height !== inputHeight || size.width !== inputWidth)) {
      throw new AekitError('BAD_ARGUMENT', `the size ${size.height}x${size.width} (--features-size or aekit.features.size) differs from input '${input.name}' [${input.dims.join(', ')}]`, { where: file });
    }
    if (extraction.resize !== 'graph' && !extraction.size) {
      throw new AekitError('BAD_ARGUMENT', `input '${input.name}' [${input.dims.join(', ')}] has no fixed size: give it with --features-size HxW, or --features-resize graph when the graph resizes`, { where: file });
    }
    return { bytes, sha256: sha256Bytes(bytes), featureSize, extraction: { ...extraction, input: input.name }, channels, declared };
  }

  /**
   * Load a feature network ({@link inspect}) and open its session.
   * @throws AekitError as {@link inspect}; BACKEND_UNAVAILABLE for a GPU runtime that cannot start.
   */
  static async load(file: string, options: FeatureNetworkOptions = {}): Promise<FeatureNetwork> {
    const found = FeatureNetwork.inspect(file, options.preprocess);
    if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
      throw new AekitError('BAD_ARGUMENT', `expected a batch size >= 1, found ${options.batchSize}`, { where: 'batchSize' });
    }
    let session: OrtSessionHandle;
    try {
      // No spin-waiting between runs: the resize of the next batch runs on the JS thread meanwhile,
      // and spinning threads took its core (bench/fid-folders.ts, 300 64x64 images through the
      // reduced Inception, 2 shared cores at load 5-7: 60 and 41 images/s spinning, 92 and 66 not).
      session = await openOrtSession(options.runtime ?? DEFAULT_EVAL_RUNTIME, found.bytes, { threads: options.threads, spinning: false });
    } catch (error) {
      if (error instanceof AekitError) throw new AekitError(error.code, error.message, { where: file, cause: error });
      throw error;
    }
    return new FeatureNetwork(file, found.sha256, found.featureSize, found.extraction, found.channels, found.declared, session, options.batchSize);
  }

  /** What the network takes, for {@link prepareImages}. */
  get input(): FeatureInput {
    return { channels: this.channels, size: this.extraction.size, extraction: this.extraction };
  }

  /** What identifies features computed with this network: the file's hash and the preprocessing. */
  get identity(): { sha256: string; extraction: FeatureExtraction } {
    return { sha256: this.sha256, extraction: this.extraction };
  }

  /** Why images of `shape` cannot be scored with this network (undefined when they can). */
  problemWith(shape: ImageShape): string | undefined {
    return inputProblem(this.input, shape);
  }

  /**
   * Check that images of `shape` can be fed to the network.
   * @throws AekitError BAD_ARGUMENT naming the first field that disagrees (`aekit.imageShape.<field>`
   *   of a network that takes one size, such as an aekit classifier), the images and their shape.
   */
  checkShape(shape: ImageShape, what: string): void {
    const problem = this.problemWith(shape);
    if (!problem) return;
    const { size, resize } = this.extraction;
    const where = (field: keyof ImageShape) => (this.declared ? `${this.path}: aekit.imageShape.${field}` : this.path);
    const channelsFit = shape.channels === this.channels || (shape.channels === 1 && this.channels === 3 && this.extraction.grayToRgb);
    if (!channelsFit) throw new AekitError('BAD_ARGUMENT', `the feature network cannot score ${what} (${describeShape(shape)}): ${problem}`, { where: where('channels') });
    for (const field of ['height', 'width'] as const) {
      const mine = size?.[field];
      if (resize !== 'none' || mine === undefined || mine === shape[field]) continue;
      throw new AekitError('BAD_ARGUMENT', `the FID classifier takes images with ${field} = ${mine}, but ${what} has ${field} = ${shape[field]} (${describeShape(shape)})`, { where: where(field) });
    }
    throw new AekitError('BAD_ARGUMENT', `the feature network cannot score ${what} (${describeShape(shape)}): ${problem}`, { where: this.path });
  }

  /** The runtime the session runs on. */
  get runtime(): OrtSessionRuntime {
    return this.session.runtime;
  }

  /** onnxruntime's threads (undefined: onnxruntime-node's default, one per physical core). */
  get threads(): number | undefined {
    return this.session.threads;
  }

  /** Rows per run call for images of `shape`: the batch size given, else as many as {@link FEATURE_BATCH_VALUES} allows. */
  rowsPerRun(shape: ImageShape): number {
    if (this.batchSize !== undefined) return this.batchSize;
    const { height, width } = fedSize(this.input, shape);
    return Math.max(1, Math.min(DEFAULT_EVAL_BATCH, Math.floor(FEATURE_BATCH_VALUES / (this.channels * height * width))));
  }

  /**
   * Features (count×featureSize) of `count` images of `shape`: NCHW (an artifact's images) or NHWC
   * (the data layer's), in `range`. Prepared and run one batch at a time, so that 10,000 images
   * resized to 299x299 never sit in memory at once.
   * @throws AekitError BAD_ARGUMENT when the images cannot be fed, EVAL_FAILED when onnxruntime fails.
   */
  async features(images: Float32Array, count: number, shape: ImageShape, layout: 'NCHW' | 'NHWC', range: ValueRange, progress?: RowProgress): Promise<Float32Array> {
    this.checkShape(shape, 'the images');
    const size = shape.height * shape.width * shape.channels;
    if (images.length < count * size) throw new AekitError('BAD_ARGUMENT', `expected ${count} images of ${describeShape(shape)} (${count * size} values), found ${images.length} values`, { where: this.path });
    const { height, width } = fedSize(this.input, shape);
    const rows = this.rowsPerRun(shape);
    const out = new Float32Array(count * this.featureSize);
    for (let start = 0; start < count; start += rows) {
      const n = Math.min(rows, count - start);
      const t0 = performance.now();
      let batch = images.subarray(start * size, (start + n) * size);
      if (layout === 'NHWC') batch = nhwcToNchw(batch, n, shape);
      batch = prepareImages(this.input, convertRange(batch, range, 'unit'), n, shape);
      const t1 = performance.now();
      let results: { name: string; data: Float32Array }[];
      try {
        results = await this.session.run({ [this.extraction.input!]: { dtype: 'float32', data: batch, dims: [n, this.channels, height, width] } });
      } catch (error) {
        throw new AekitError('EVAL_FAILED', `${this.session.runtime} failed on images ${start}-${start + n - 1}: ${(error as Error).message}`, { where: this.path, cause: error });
      }
      this.timings.preprocessMs += t1 - t0;
      this.timings.inferenceMs += performance.now() - t1;
      const features = results.find((r) => r.name === this.extraction.output);
      if (!features || features.data.length !== n * this.featureSize) {
        throw new AekitError('EVAL_FAILED', `expected output '${this.extraction.output}' of ${n}x${this.featureSize} values, found ${features ? features.data.length : 'none'}`, { where: this.path });
      }
      out.set(features.data, start * this.featureSize);
      progress?.(start + n, count);
    }
    return out;
  }

  /** Features of data-layer images (NHWC in [0, 1]). */
  featuresOfData(unitNhwc: Float32Array, count: number, shape: ImageShape = this.ownShape(), progress?: RowProgress): Promise<Float32Array> {
    return this.features(unitNhwc, count, shape, 'NHWC', 'unit', progress);
  }

  /** The image shape of a network that does not resize (what callers that give no shape mean). */
  private ownShape(): ImageShape {
    if (this.extraction.resize !== 'none' || !this.extraction.size) {
      throw new AekitError('BAD_ARGUMENT', `the network resizes its input (${this.extraction.resize}): give the images' shape`, { where: this.path });
    }
    return { ...this.extraction.size, channels: this.channels };
  }

  /** Free the session. */
  release(): Promise<void> {
    return this.session.release();
  }
}

/** The fields of `value` that are not undefined. */
function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
