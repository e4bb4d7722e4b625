/**
 * An exported encoder (and the decoder next to it) as the latent tools use them: images in,
 * codes out; codes in, images out. Sessions and the families' conventions (which output is the
 * code, one-hot labels of conditional models, NCHW layout, value range) are eval's `OnnxModel`
 * and `ModelIo`, so the latent tools feed artifacts exactly as `aekit eval` does.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { AekitError } from '../../core/errors';
import { familyNames, getFamily } from '../../models';
import { fromArtifactImages } from '../images';
import type { ImageShape } from '../images';
import { ModelIo, oneHot } from '../model-io';
import { OnnxModel } from '../onnx-session';

/** An encoder artifact with its decoder (when one lies next to it); open it with {@link openLatentModel}. */
export class LatentModel {
  private constructor(
    private readonly io: ModelIo,
    /** The encoder's file. */
    readonly encoderPath: string,
    /** The decoder's file, when there is one. */
    readonly decoderPath: string | undefined,
  ) {}

  /**
   * Open an encoder artifact and the decoder of the same run: `decoder` if given, else
   * `decoder.onnx` in the encoder's folder (the layout `aekit export` writes), when it exists.
   */
  static async open(encoderPath: string, options: { decoder?: string } = {}): Promise<LatentModel> {
    const nextTo = path.join(path.dirname(encoderPath), 'decoder.onnx');
    const decoderPath = options.decoder ?? (existsSync(nextTo) ? nextTo : undefined);
    const encoder = await OnnxModel.load(encoderPath);
    const models = [encoder];
    try {
      if (encoder.metadata.part !== 'encoder') throw notAnEncoder(encoder, encoderPath);
      const image = encoder.info.imageShape;
      if (!image) throw new AekitError('BAD_DATA', 'the encoder has no fixed image shape (aekit.imageShape or an NCHW input)', { where: encoderPath });
      const decoder = decoderPath ? await OnnxModel.load(decoderPath) : undefined;
      if (decoder) {
        models.push(decoder);
        if (decoder.metadata.part !== 'decoder') throw new AekitError('BAD_ARGUMENT', `expected a decoder artifact, found part '${decoder.metadata.part}'`, { where: decoderPath });
        if (decoder.metadata.runId !== encoder.metadata.runId) {
          throw new AekitError('BAD_ARGUMENT', `the decoder is from run '${decoder.metadata.runId}', the encoder from '${encoder.metadata.runId}'`, { where: decoderPath });
        }
      }
      const target = {
        source: encoderPath,
        family: encoder.metadata.family,
        runId: encoder.metadata.runId,
        parts: { encoder, ...(decoder ? { decoder } : {}) },
        release: async () => {
          await Promise.all(models.map((m) => m.release()));
        },
      };
      const io = new ModelIo(target, { height: image.height, width: image.width, channels: image.channels });
      return new LatentModel(io, encoderPath, decoder ? decoderPath : undefined);
    } catch (error) {
      await Promise.all(models.map((m) => m.release()));
      throw error;
    }
  }

  /** Image shape the encoder takes and the decoder produces. */
  get imageShape(): ImageShape {
    return this.io.shape;
  }

  get family(): string {
    return this.io.family;
  }

  /** What the encoder artifact is (the artifact layer's description). */
  get info(): OnnxModel['info'] {
    return this.io.encoder!.info;
  }

  /** The encoder's aekit metadata. */
  get metadata(): OnnxModel['metadata'] {
    return this.io.encoder!.metadata;
  }

  /** Classes of a conditional model (its artifacts take a one-hot label), else 0. */
  get numClasses(): number {
    return this.io.labelWidth(this.io.encoder);
  }

  /** Size of the codes: the encoder output that feeds the decoder (`mu` or `code`). */
  get latentSize(): number {
    this.codeName();
    return this.io.encoder!.info.codeOutput!.size;
  }

  private codeName(): string {
    const name = this.io.codeOutputName();
    if (!name) {
      const outputs = this.metadata.outputs.map((o) => o.name).join(', ');
      throw new AekitError('BAD_ARGUMENT', `this ${this.family} encoder has no single code output that the decoder takes (outputs: ${outputs}); the latent tools need 'mu' or 'code'`, {
        where: this.encoderPath,
      });
    }
    return name;
  }

  private checkLabels(count: number, labels?: ArrayLike<number>): Int32Array | undefined {
    if (this.numClasses === 0) return undefined;
    if (!labels || labels.length < count) {
      throw new AekitError('BAD_ARGUMENT', `this ${this.family} model is conditional: give a class (0..${this.numClasses - 1}) for every image`, { where: this.encoderPath });
    }
    const out = Int32Array.from(Array.from(labels).slice(0, count));
    const bad = out.find((l) => l < 0 || l >= this.numClasses);
    if (bad !== undefined) throw new AekitError('BAD_ARGUMENT', `class ${bad} is outside 0..${this.numClasses - 1} of this conditional model`, { where: this.encoderPath });
    return out;
  }

  /** Codes [count, latentSize] of NHWC images in [0, 1]; conditional models need one class per image. */
  async encode(images: Float32Array, count: number, labels?: ArrayLike<number>): Promise<Float32Array> {
    const name = this.codeName();
    const encoded = await this.io.encode(images, count, this.checkLabels(count, labels));
    return name === 'mu' ? encoded.mu! : encoded.code!;
  }

  /**
   * What the scatter plot shows: the code (`mu`/`code`), or for families whose code is not one
   * output (e.g. joint-vae), eval's features (`mu`).
   */
  async features(images: Float32Array, count: number, labels?: ArrayLike<number>): Promise<{ values: Float32Array; size: number }> {
    const encoded = await this.io.encode(images, count, this.checkLabels(count, labels));
    return { values: encoded.features, size: encoded.featureSize };
  }

  /** The decoder's path, or an error saying where it was looked for. */
  requireDecoder(): string {
    if (!this.decoderPath) {
      throw new AekitError('FILE_NOT_FOUND', `no decoder next to the encoder (looked for ${path.join(path.dirname(this.encoderPath), 'decoder.onnx')}); export with --part all or pass --decoder`, {
        where: this.encoderPath,
      });
    }
    return this.decoderPath;
  }

  /** NHWC images in [0, 1] for codes [count, latentSize]; conditional models need one class per code. */
  async decode(codes: Float32Array, count: number, labels?: ArrayLike<number>): Promise<Float32Array> {
    this.requireDecoder();
    const classes = this.checkLabels(count, labels);
    const nchw = await this.io.decode(codes, count, classes ? oneHot(classes, this.numClasses) : undefined);
    const unit = fromArtifactImages(nchw, count, this.imageShape, this.io.valueRange);
    // Decoders end in sigmoid/tanh; clamp rounding error at the ends for 8-bit output.
    return unit.map((v) => Math.min(1, Math.max(0, v)));
  }

  /** Free the onnxruntime sessions. */
  async release(): Promise<void> {
    await this.io.encoder?.release();
    await this.io.generator?.release();
  }
}

/** The refusal of an artifact that is not an encoder, saying whether its run has one. */
function notAnEncoder(model: OnnxModel, file: string): AekitError {
  const { part, family } = model.metadata;
  const hasEncoder = familyNames().includes(family) ? getFamily(family).exportParts.includes('encoder') : true;
  const advice = hasEncoder
    ? `give its run's encoder (${path.join(path.dirname(file), 'encoder.onnx')} where aekit export wrote both)`
    : `a ${family} has no encoder, and the latent tools work on the codes of images`;
  return new AekitError('BAD_ARGUMENT', `expected an encoder artifact, found part '${part}'; ${advice}`, { where: file });
}

/** See {@link LatentModel.open}. */
export function openLatentModel(encoderPath: string, options: { decoder?: string } = {}): Promise<LatentModel> {
  return LatentModel.open(encoderPath, options);
}
