/**
 * An encoder in the browser, and a whole model: images -> codes on onnxruntime-web, and
 * `loadModel`, which pairs a run's encoder and decoder so a page can reconstruct (image -> code ->
 * image) as the server's `/reconstruct` does.
 */
import { defaultLog, ort } from './ort';
import type { WebExecutionProvider } from './ort';
import { asEncoder, describeBytes, summaryOf, whyNoCode } from './artifact';
import type { EncoderInfo } from './artifact';
import { openDecoder } from './decoder';
import type { Decoder } from './decoder';
import { fetchBytes, openWebSession } from './runtime';
import type { LoadDecoderOptions } from './runtime';
import { imageRows, labelFeed } from './tensors';
import type { ImageBatch, LabelOption } from './tensors';
import type { ArtifactInfo, ModelSummary } from '../../artifact/info';
import type { ArtifactMetadata } from '../../artifact/metadata';

/** Codes of a batch of images. */
export interface Codes {
  /** rows x latentSize values, row-major: what the decoder takes. */
  z: Float32Array;
  /** The log-variance beside `z` (Gaussian encoders: the code is the mean). */
  logvar?: Float32Array;
  rows: number;
  latentSize: number;
}

/** A loaded encoder: the model's facts and its operation. */
export interface Encoder extends ModelSummary {
  readonly info: ArtifactInfo;
  readonly metadata: ArtifactMetadata;
  readonly executionProvider: WebExecutionProvider;
  readonly threads: number;
  /** Encode images: a batch, or flat NCHW values in the model's value range. */
  encode(images: ImageBatch | Float32Array, options?: LabelOption): Promise<Codes>;
  /** Free the session. */
  release(): Promise<void>;
}

/** Open an encoder session on fetched `bytes`. */
async function openEncoder(bytes: Uint8Array, url: string, options: LoadDecoderOptions): Promise<Encoder> {
  const log = options.log ?? defaultLog;
  const info: EncoderInfo = asEncoder(describeBytes(bytes, url), url);
  const summary = summaryOf(info, url);
  const { session, provider, threads } = await openWebSession(bytes, url, options, log);
  log('info', `${url}: ${info.family} encoder on ${provider}`);
  const { channels, height, width } = summary.imageShape;
  const latentSize = info.codeOutput.size;
  const logvarOutput = info.metadata.outputs.find((o) => o.name === 'logvar' && o.shape[1] === latentSize)?.name;

  return {
    ...summary,
    info,
    metadata: info.metadata,
    executionProvider: provider,
    threads,
    async encode(images: ImageBatch | Float32Array, opts: LabelOption = {}): Promise<Codes> {
      const { data, rows } = imageRows(images, summary.imageShape, info.valueRange);
      const feeds: Record<string, ort.Tensor> = { [info.imageInput]: new ort.Tensor('float32', data, [rows, channels, height, width]) };
      const label = labelFeed(info.label, opts.label, rows, 'encoder');
      if (label) feeds[label.input] = new ort.Tensor('float32', label.data, label.dims);
      const results = await session.run(feeds);
      const z = Float32Array.from((await results[info.codeOutput.name].getData()) as Float32Array);
      const bad = z.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new Error(`aekit-web: ${url} encoded a non-finite value (${z[bad]}) at index ${bad}`);
      const logvar = logvarOutput ? Float32Array.from((await results[logvarOutput].getData()) as Float32Array) : undefined;
      return { z, ...(logvar ? { logvar } : {}), rows, latentSize };
    },
    async release() {
      await session.release();
    },
  };
}

/**
 * Load an encoder artifact from `url` (its code output must be the decoder's whole input: the
 * `mu` of a Gaussian encoder or the `code` of an autoencoder).
 */
export async function loadEncoder(url: string, options: LoadDecoderOptions = {}): Promise<Encoder> {
  return openEncoder(await fetchBytes(url, options), url, options);
}

/** URLs of one run's artifacts (what `aekit serve`'s `/v1/models` and a static export's `manifest.json` list). */
export interface ModelUrls {
  decoder: string;
  encoder?: string;
}

/** A run's decoder and, when its code can be decoded, its encoder. */
export interface WebModel {
  readonly decoder: Decoder;
  readonly encoder?: Encoder;
  /** Why there is no {@link encoder}: none was given, or its code is not a decoder input. */
  readonly whyNoEncoder?: string;
  /** Images -> codes -> images (needs {@link encoder}); `z` is the code each image was decoded from. */
  reconstruct(images: ImageBatch | Float32Array, options?: LabelOption): Promise<ImageBatch & { z: Float32Array }>;
  /** Free both sessions. */
  release(): Promise<void>;
}

/**
 * Load a run's decoder and encoder. An encoder whose code the decoder cannot take (gumbel-vae,
 * joint-vae) is left out with the reason in `whyNoEncoder`, so a page can still decode and sample.
 * @throws Error when the two artifacts disagree on latent size, image shape, value range or classes.
 */
export async function loadModel(urls: ModelUrls, options: LoadDecoderOptions = {}): Promise<WebModel> {
  const [decoderBytes, encoderBytes] = await Promise.all([fetchBytes(urls.decoder, options), urls.encoder ? fetchBytes(urls.encoder, options) : undefined]);
  const decoder = await openDecoder(decoderBytes, urls.decoder, options);
  let encoder: Encoder | undefined;
  let whyNoEncoder: string | undefined = urls.encoder ? undefined : 'no encoder artifact was given';
  if (urls.encoder && encoderBytes) {
    const info = describeBytes(encoderBytes, urls.encoder);
    whyNoEncoder = whyNoCode(info);
    if (!whyNoEncoder) {
      const facts = (s: ModelSummary) => JSON.stringify([s.latentSize, s.imageShape, s.valueRange, s.numClasses ?? 0]);
      const [d, e] = [facts(decoder), facts(summaryOf(info, urls.encoder))];
      if (d !== e) throw new Error(`aekit-web: ${urls.encoder} and ${urls.decoder} disagree on [latent size, image shape, value range, classes]: ${e} vs ${d}`);
      encoder = await openEncoder(encoderBytes, urls.encoder, options);
    }
  }
  return {
    decoder,
    encoder,
    whyNoEncoder,
    async reconstruct(images, opts = {}) {
      if (!encoder) throw new Error(`aekit-web: cannot reconstruct with this ${decoder.family}: ${whyNoEncoder}`);
      const codes = await encoder.encode(images, opts);
      return { ...(await decoder.decode(codes.z, opts)), z: codes.z };
    },
    async release() {
      await Promise.all([decoder.release(), encoder?.release()]);
    },
  };
}
