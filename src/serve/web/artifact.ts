/**
 * An artifact as the browser module reads it: its bytes' aekit metadata, described by the artifact
 * layer (`describeArtifact`), and checked for the role a loader gives it (decoder or encoder), with
 * errors that name the URL and the field.
 */
import { DECODING_PARTS, describeArtifact, summarizeModel } from '../../artifact/info';
import type { ArtifactInfo, ModelSummary } from '../../artifact/info';
import { readAekitMetadata } from '../../artifact/metadata-bytes';
import { validateMetadata } from '../../artifact/metadata';

/** A decoder's description: it has a latent input and an image output. */
export type DecoderInfo = ArtifactInfo & { latentInput: { name: string; size: number }; imageOutput: string };
/** An encoder's description: it has an image input and a code output that is the decoder's whole input. */
export type EncoderInfo = ArtifactInfo & { imageInput: string; codeOutput: { name: string; size: number } };

const failAt =
  (url: string) =>
  (what: string): never => {
    throw new Error(`aekit-web: ${url}: ${what}`);
  };

/**
 * Describe the artifact in `bytes` (fetched from `url`).
 * @throws Error when the bytes are not ONNX, carry no aekit metadata, or the metadata is invalid.
 */
export function describeBytes(bytes: Uint8Array, url: string): ArtifactInfo {
  const fail = failAt(url);
  let metadata: Record<string, unknown>;
  try {
    metadata = readAekitMetadata(bytes);
  } catch (error) {
    throw new Error(`aekit-web: ${url} is not an ONNX model (${(error as Error).message})`);
  }
  if (Object.keys(metadata).length === 0) fail('no aekit metadata; export the model with `aekit export`');
  try {
    return describeArtifact(validateMetadata(metadata, url, 'BAD_DATA'), { where: url });
  } catch (error) {
    return fail((error as Error).message.replace(`${url}: `, ''));
  }
}

/** The model facts of `info`, with the loader's error prefix. */
export function summaryOf(info: ArtifactInfo, url: string): ModelSummary {
  try {
    return summarizeModel(info, url);
  } catch (error) {
    throw new Error(`aekit-web: ${(error as Error).message}`);
  }
}

function checkLabel(info: ArtifactInfo, url: string): void {
  if (info.label && info.label.encoding !== 'one-hot') failAt(url)(`label encoding '${info.label.encoding}' is not supported (expected 'one-hot')`);
}

/**
 * Check that `info` describes a decoder (or a generator) the module can run.
 * @throws Error naming the URL and what is missing.
 */
export function asDecoder(info: ArtifactInfo, url: string): DecoderInfo {
  const fail = failAt(url);
  if (!DECODING_PARTS.includes(info.part)) fail(`artifact part is '${info.part}', expected a decoder or generator`);
  checkLabel(info, url);
  if (!info.latentInput) fail("metadata 'inputs' has no [batch, latentSize] latent input");
  if (!info.imageOutput) fail("metadata 'outputs' has no NCHW image output");
  return info as DecoderInfo;
}

/**
 * Why the encoder `info` gives no code a decoder can take, or undefined when it does (the server's
 * `/encode` rule): categorical and joint codes (gumbel-vae, joint-vae) have no such output.
 */
export function whyNoCode(info: ArtifactInfo): string | undefined {
  if (info.part !== 'encoder') return `artifact part is '${info.part}', expected an encoder`;
  if (!info.imageInput) return "metadata 'inputs' has no NCHW image input";
  if (!info.codeOutput) {
    const outputs = info.metadata.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
    return `the ${info.family} encoder has no output that is the decoder's whole input ('mu' or 'code' of ${info.latentSize ?? '?'} values); its outputs: ${outputs}`;
  }
  return undefined;
}

/**
 * Check that `info` describes an encoder whose code a decoder takes.
 * @throws Error naming the URL and {@link whyNoCode}.
 */
export function asEncoder(info: ArtifactInfo, url: string): EncoderInfo {
  const why = whyNoCode(info);
  if (why) failAt(url)(why);
  checkLabel(info, url);
  return info as EncoderInfo;
}
