/**
 * A decoder in the browser: latents (and a class, for conditional models) -> images on
 * onnxruntime-web, and samples from the artifact's prior with the same seeded draws as the server.
 */
import { defaultLog, ort } from './ort';
import type { WebExecutionProvider } from './ort';
import { asDecoder, describeBytes, summaryOf } from './artifact';
import type { DecoderInfo } from './artifact';
import { fetchBytes, openWebSession } from './runtime';
import type { LoadDecoderOptions } from './runtime';
import { latentRows, labelFeed } from './tensors';
import type { ImageBatch, LabelOption } from './tensors';
import type { ArtifactInfo, ModelSummary } from '../../artifact/info';
import type { ArtifactMetadata } from '../../artifact/metadata';
import { drawLatents, MAX_SEED } from '../../artifact/prior';

/** A loaded decoder: the model's facts (the artifact layer's `ModelSummary`, as the server lists them) and its operations. */
export interface Decoder extends ModelSummary {
  /** Everything the artifact layer derives from the artifact's metadata. */
  readonly info: ArtifactInfo;
  /** Every `aekit.*` field of the artifact. */
  readonly metadata: ArtifactMetadata;
  /** The provider whose session loaded. */
  readonly executionProvider: WebExecutionProvider;
  /** wasm threads onnxruntime-web runs with. */
  readonly threads: number;
  /** Decode latents: one row (`number[]`), rows (`number[][]`) or a flat row-major Float32Array. */
  decode(z: number[] | number[][] | Float32Array, options?: LabelOption): Promise<ImageBatch>;
  /** Decode `n` latents drawn from the artifact's prior with `seed` (random when left out; returned); only when {@link canSample}. */
  sample(n: number, seed?: number, options?: LabelOption): Promise<ImageBatch & { z: Float32Array; seed: number }>;
  /** Free the session. */
  release(): Promise<void>;
}

/** Open a decoder session on fetched `bytes` (what {@link loadDecoder} and `loadModel` share). */
export async function openDecoder(bytes: Uint8Array, url: string, options: LoadDecoderOptions): Promise<Decoder> {
  const log = options.log ?? defaultLog;
  const info: DecoderInfo = asDecoder(describeBytes(bytes, url), url);
  const summary = summaryOf(info, url);
  const { session, provider, threads } = await openWebSession(bytes, url, options, log);
  log('info', `${url}: ${info.family} decoder on ${provider}${provider === 'wasm' ? ` (${threads} thread${threads === 1 ? '' : 's'})` : ''}`);
  const { channels, height, width } = summary.imageShape;
  const latentSize = info.latentInput.size;

  const decode = async (z: number[] | number[][] | Float32Array, opts: LabelOption = {}): Promise<ImageBatch> => {
    const flat = latentRows(z, latentSize);
    const rows = flat.length / latentSize;
    const feeds: Record<string, ort.Tensor> = { [info.latentInput.name]: new ort.Tensor('float32', flat, [rows, latentSize]) };
    const label = labelFeed(info.label, opts.label, rows, 'decoder');
    if (label) feeds[label.input] = new ort.Tensor('float32', label.data, label.dims);
    const results = await session.run(feeds);
    const data = (await results[info.imageOutput].getData()) as Float32Array;
    return { data: Float32Array.from(data), shape: [rows, channels, height, width], valueRange: info.valueRange };
  };

  return {
    ...summary,
    info,
    metadata: info.metadata,
    executionProvider: provider,
    threads,
    decode,
    async sample(n: number, seed?: number, opts: LabelOption = {}) {
      if (!Number.isInteger(n) || n < 1) throw new Error(`aekit-web: sample(n) needs a positive whole n, got ${n}`);
      const usedSeed = seed ?? Math.floor(Math.random() * MAX_SEED);
      if (!Number.isInteger(usedSeed) || usedSeed < 0 || usedSeed > MAX_SEED) throw new Error(`aekit-web: seed must be a whole number in 0 .. ${MAX_SEED}, got ${seed}`);
      if (!info.canSample) throw new Error(`aekit-web: this ${info.family} ${info.part} cannot be sampled: ${info.whyNoSample}; use decode() with your own z`);
      const z = drawLatents(info, n, usedSeed);
      const images = await decode(z, opts);
      return { ...images, z, seed: usedSeed };
    },
    async release() {
      await session.release();
    },
  };
}

/**
 * Load a decoder artifact from `url` and open an onnxruntime-web session on the first execution
 * provider that works (failures of the others are logged, and all are reported if none works).
 */
export async function loadDecoder(url: string, options: LoadDecoderOptions = {}): Promise<Decoder> {
  return openDecoder(await fetchBytes(url, options), url, options);
}
